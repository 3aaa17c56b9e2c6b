{{/* Chart name, truncated to the 63 characters of a label value. */}}
{{- define "partop.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name used as the prefix of every resource name: fullnameOverride, else <release>-<name>,
else <release> when the release name already contains the chart name.
*/}}
{{- define "partop.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart label value: <name>-<version>. */}}
{{- define "partop.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object of the release carries. */}}
{{- define "partop.labels" -}}
helm.sh/chart: {{ include "partop.chart" . }}
{{ include "partop.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: partop
{{- end }}

{{/* Labels the Deployment selects its pods by (immutable once installed). */}}
{{- define "partop.selectorLabels" -}}
app.kubernetes.io/name: {{ include "partop.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount the operator runs as. */}}
{{- define "partop.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "partop.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Whether the operator runs with --leader-elect: forced, or more than one replica. */}}
{{- define "partop.leaderElect" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) }}true{{ end }}
{{- end }}

{{/* Name of the leader-election Lease. */}}
{{- define "partop.leaseName" -}}
{{- default (printf "%s-leader" (include "partop.fullname" . | trunc 56 | trimSuffix "-")) .Values.leaderElection.id }}
{{- end }}

{{/* Name of the metrics Service, also the Prometheus job label a ServiceMonitor produces. */}}
{{- define "partop.metricsServiceName" -}}
{{- printf "%s-metrics" (include "partop.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{/* Image reference; the tag defaults to the chart's appVersion. */}}
{{- define "partop.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
Rules for the watched namespaces (or the whole cluster). What the operator does against the API, and nothing more (no delete, no wildcards):
  partitionpolicies           list/watch (informers), get
  partitionpolicies/status    merge-patch (get/update for completeness of status writers)
  partitionmigrations         list/watch (informers), get: the same as partitionpolicies
  partitionmigrations/status  merge-patch (get/update for completeness of status writers)
  partitionbackfills, partitionbackfills/status: the same as partitionmigrations
  secrets                     list/watch (informers: databaseRef), get
  events (core v1)            create, merge-patch (aggregation of repeated events)
  configmaps                  get (at a restart), create and merge-patch <policy>-partitions (no list/watch)
  leases                      get/create/update, in the release namespace only, in a Role of its own (rbac.yaml)
*/}}
{{- define "partop.rbac.watchRules" -}}
- apiGroups: ["partop.dev"]
  resources: ["partitionpolicies", "partitionmigrations", "partitionbackfills"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["partop.dev"]
  resources: ["partitionpolicies/status", "partitionmigrations/status", "partitionbackfills/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "create", "patch", "update"]
{{- end }}
