#!/usr/bin/env bash
# A real single-node Kubernetes cluster for partop's e2e tests: the control plane of
# control-plane.sh (etcd + kube-apiserver, here serving pods at this machine's address) plus
# kube-controller-manager, kube-scheduler, containerd with a CNI bridge, kubelet and kube-proxy.
# Pods run for real; images come from `ctr images import` (there is no registry).
#
# Usage: e2e/cluster.sh COMMAND DIR
#   up DIR            install what is missing (cached in $PARTOP_CACHE), start everything, wait
#                     until the node is Ready and the default ServiceAccount has its token
#   down DIR          stop everything and leave nothing behind: containers, processes, mounts,
#                     network namespaces, iptables chains, the CNI bridge, pod logs, sysctls
#   import DIR TAR    import a docker-archive image tarball into the node's containerd
#   env DIR           print DIR/env (KUBECONFIG, PATH, NODE_ADDRESS, POD_CIDR, CLUSTER_DIR)
#
# Facts this rests on (../shared/notes/real-cluster.md): containerd must restrict pods'
# oom_score_adj (root may not lower it here); the sandbox image is local (a static pause built
# with gcc); kubelet runs without QoS cgroups on cgroupfs; pods reach the API server through the
# `kubernetes` Service, so kube-proxy must run and the API server must listen on a non-loopback
# address; there is no cluster DNS.
#
# Environment: PARTOP_CACHE (as control-plane.sh), PARTOP_NODE_ADDRESS (default: the first
# global IPv4 address of this machine).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=control-plane.sh
source "$here/control-plane.sh"
log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

NODE_NAME=partop-e2e-node
POD_CIDR=10.244.0.0/24
BRIDGE=partop0
CNI_NETWORK=partop-e2e
PAUSE_IMAGE=docker.io/local/pause:1
# What kubelet and the CNI bridge change on the host, put back by `down`.
SYSCTLS=(net.ipv4.ip_forward vm.overcommit_memory kernel.panic kernel.panic_on_oops vm.panic_on_oom)
# Host directories that kubelet and containerd's CNI use whatever their configuration says.
HOST_DIRS=(/var/log/pods /var/log/containers /var/lib/cni /run/netns /run/containerd)

host_dir_entries() { find "${HOST_DIRS[@]}" -mindepth 1 -maxdepth 1 2>/dev/null || true; }

node_address() {
  if [[ -n ${PARTOP_NODE_ADDRESS:-} ]]; then echo "$PARTOP_NODE_ADDRESS"; return; fi
  local a
  a=$(ip -4 -o addr show scope global | awk '{sub(/\/.*/, "", $4); print $4; exit}')
  [[ -n $a ]] || die "no global IPv4 address on this machine (set PARTOP_NODE_ADDRESS)"
  echo "$a"
}

ctr_() { ctr --address "$DIR/containerd/containerd.sock" -n k8s.io "$@"; }
kubectl_() { "$BIN/kubectl" --kubeconfig "$DIR/cp/kubeconfig" "$@"; }

# The sandbox ("pause") image: a static program that sleeps, reaps children and exits on TERM.
pause_image() {
  local tar="$PARTOP_CACHE/images/pause-1.tar"
  [[ -s $tar ]] && { echo "$tar"; return; }
  mkdir -p "$PARTOP_CACHE/images"
  local work
  work=$(mktemp -d)
  cat >"$work/pause.c" <<'EOF'
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, 0, WNOHANG) > 0) {} }
int main(void) {
  signal(SIGTERM, stop);
  signal(SIGINT, stop);
  signal(SIGCHLD, reap);
  for (;;) pause();
}
EOF
  mkdir -p "$work/rootfs"
  gcc -static -Os -o "$work/rootfs/pause" "$work/pause.c" || die "could not build the pause program"
  tar -C "$work/rootfs" --owner=0 --group=0 --numeric-owner -cf "$work/layer.tar" pause
  umoci init --layout "$work/oci"
  umoci new --image "$work/oci:1"
  umoci raw add-layer --image "$work/oci:1" "$work/layer.tar"
  umoci config --image "$work/oci:1" --config.entrypoint /pause
  skopeo copy --quiet "oci:$work/oci:1" "docker-archive:$tar.tmp:${PAUSE_IMAGE#docker.io/}" >&2
  mv -f "$tar.tmp" "$tar"
  rm -rf "$work"
  echo "$tar"
}

write_configs() {
  mkdir -p "$DIR/containerd" "$DIR/cni" "$DIR/kubelet"
  cat >"$DIR/containerd/config.toml" <<EOF
version = 2
root = "$DIR/containerd/root"
state = "$DIR/containerd/state"
[grpc]
  address = "$DIR/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$DIR/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni"
EOF
  cat >"$DIR/cni/10-$CNI_NETWORK.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]],
              "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$DIR/cni-ipam"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  cat >"$DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_ADDRESS
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
# The API server calls kubelet (logs, exec) without a client certificate on this test node.
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
# Images are imported, never pulled: they must not be collected, nor pods evicted for disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%"}
serializeImagePulls: false
resolvConf: /etc/resolv.conf
EOF
}

wait_for() { # SECONDS WHAT COMMAND...
  local timeout=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
  log "$what"
}

node_ready() {
  [[ $(kubectl_ get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]]
}
default_token() {
  [[ -n $(kubectl_ -n default get serviceaccount default -o jsonpath='{.secrets[0].name}') ]]
}

cmd_up() {
  set_dir "$1"
  local t0=$SECONDS
  do_install node
  if [[ -f $DIR/cluster-state ]] && pidfile_alive kubelet && pidfile_alive containerd; then
    log "already up (env: $DIR/env)"
    return 0
  fi
  NODE_ADDRESS=$(node_address)
  read -r KUBELET_PORT KUBELET_HEALTHZ_PORT PROXY_HEALTHZ_PORT PROXY_METRICS_PORT < <(free_ports 4)
  {
    echo "NODE_ADDRESS=$NODE_ADDRESS"
    local s d
    for s in "${SYSCTLS[@]}"; do echo "SYSCTL_${s//./_}=$(sysctl -n "$s")"; done
    for d in "${HOST_DIRS[@]}"; do
      if [[ -e $d ]]; then echo "EXISTED_${d//\//_}=1"; fi
    done
    # iptables tables (nftables underneath) that exist before the node makes its chains
    echo "IPTABLES_TABLES='$(iptables_tables iptables-save) $(iptables_tables ip6tables-save)'"
    # entries of host directories that are not ours, kept by `down`
    host_dir_entries | sed 's/^/#KEEP /'
  } >"$DIR/cluster-state"

  PARTOP_NODE_ADDRESS=$NODE_ADDRESS bash "$here/control-plane.sh" up "$DIR/cp" >/dev/null
  write_configs
  local pause
  pause=$(pause_image)

  log "starting containerd"
  spawn containerd containerd --config "$DIR/containerd/config.toml"
  wait_for 30 "containerd is serving" ctr_ version || die "containerd did not start (log: $DIR/containerd.log)"
  ctr_ images import "$pause" >/dev/null || die "could not import the pause image"

  local kubeconfig="$DIR/cp/kubeconfig"
  log "starting kube-controller-manager and kube-scheduler"
  spawn kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$kubeconfig" \
    --leader-elect=false --port=0 --secure-port=0 \
    --service-account-private-key-file="$DIR/cp/sa.key" \
    --root-ca-file="$DIR/cp/certs/apiserver.crt" \
    --use-service-account-credentials=false
  spawn kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$kubeconfig" \
    --leader-elect=false --port=0 --secure-port=0

  log "starting kubelet ($NODE_NAME at $NODE_ADDRESS)"
  spawn kubelet "$BIN/kubelet" --config="$DIR/kubelet/config.yaml" --kubeconfig="$kubeconfig" \
    --container-runtime=remote \
    --container-runtime-endpoint="unix://$DIR/containerd/containerd.sock" \
    --root-dir="$DIR/kubelet/root" --cert-dir="$DIR/kubelet/pki" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_ADDRESS"

  log "starting kube-proxy (iptables mode)"
  # no conntrack or oom_score_adj tuning: those sysctls are not ours to change (nor allowed here)
  spawn kube-proxy "$BIN/kube-proxy" --kubeconfig="$kubeconfig" --hostname-override="$NODE_NAME" \
    --proxy-mode=iptables --cluster-cidr="$POD_CIDR" --oom-score-adj=0 \
    --conntrack-max-per-core=0 --conntrack-tcp-timeout-established=0 \
    --conntrack-tcp-timeout-close-wait=0 \
    --healthz-bind-address="127.0.0.1:$PROXY_HEALTHZ_PORT" \
    --metrics-bind-address="127.0.0.1:$PROXY_METRICS_PORT"

  wait_for 120 "node $NODE_NAME is Ready" node_ready \
    || { tail -n 30 "$DIR/kubelet.log" >&2; die "node not Ready after 120s (log: $DIR/kubelet.log)"; }
  wait_for 60 "the default ServiceAccount has a token" default_token \
    || die "no token for the default ServiceAccount (log: $DIR/kube-controller-manager.log)"
  local name
  for name in containerd kube-controller-manager kube-scheduler kubelet kube-proxy; do
    pidfile_alive "$name" || { tail -n 30 "$DIR/$name.log" >&2; die "$name exited (log: $DIR/$name.log)"; }
  done
  {
    cat "$DIR/cp/env"
    printf 'export PATH=%q:"$PATH"\n' "$BIN"
    printf 'export NODE_ADDRESS=%q\n' "$NODE_ADDRESS"
    printf 'export POD_CIDR=%q\n' "$POD_CIDR"
    printf 'export CLUSTER_DIR=%q\n' "$DIR"
  } >"$DIR/env"
  log "up in $((SECONDS - t0))s (env: $DIR/env)"
}

iptables_tables() { "$1" 2>/dev/null | sed -n "s/^\*/${1%%-save}:/p" | paste -sd' ' -; }

# Removes partop-e2e's chains and the rules that jump to them or masquerade its pods, atomically
# per table, keeping every other rule.
clean_iptables() {
  local save restore table
  for save in iptables-save ip6tables-save; do
    restore=${save/-save/-restore}
    command -v "$save" >/dev/null || continue
    for table in nat filter mangle; do
      local rules
      rules=$("$save" -t "$table" 2>/dev/null) || continue
      grep -qE 'KUBE-|CNI-|'"$POD_CIDR" <<<"$rules" || continue
      grep -vE '^:(KUBE-|CNI-)|^-A (KUBE-|CNI-)|-j (KUBE-|CNI-)|'"${POD_CIDR//./\\.}" <<<"$rules" \
        | "$restore" -T "$table" || log "warning: could not clean $save -t $table"
    done
  done
  # Tables the node's programs created (iptables-nft makes them on first use), once empty.
  [[ -f $DIR/cluster-state ]] || return 0
  local before family
  before=$(sed -n "s/^IPTABLES_TABLES='\(.*\)'$/\1/p" "$DIR/cluster-state" 2>/dev/null)
  for save in iptables-save ip6tables-save; do
    family=ip
    [[ $save == ip6* ]] && family=ip6
    for table in $("$save" 2>/dev/null | sed -n 's/^\*//p'); do
      [[ " $before " == *" ${save%%-save}:$table "* ]] && continue
      grep -q '^-A' <<<"$("$save" -t "$table")" && continue
      nft delete table "$family" "$table" || log "warning: could not delete table $family $table"
    done
  done
}

cmd_down() {
  [[ -n ${1:-} ]] || usage
  if [[ ! -d $1 ]]; then log "$1 does not exist: nothing to stop"; return 0; fi
  DIR=$(cd "$1" && pwd -P)
  # Pods first, while kubelet and containerd can still tear their sandboxes down (CNI DEL).
  if pidfile_alive kubelet && pidfile_alive containerd && [[ -f $DIR/cp/kubeconfig ]]; then
    kubectl_ delete pods --all --all-namespaces --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
    wait_for 60 "every pod is gone" bash -c "[[ -z \$(ctr --address '$DIR/containerd/containerd.sock' -n k8s.io tasks ls -q) ]]" \
      || log "warning: containers still running after 60s; killing them"
  fi
  stop_proc kube-proxy
  stop_proc kubelet
  stop_proc kube-scheduler
  stop_proc kube-controller-manager
  if pidfile_alive containerd; then
    local c
    for c in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s KILL "$c" >/dev/null 2>&1 || true; done
    sleep 1
    for c in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$c" >/dev/null 2>&1 || true; done
  fi
  stop_proc containerd
  pkill -KILL -f "containerd-shim-runc-v2 .*-address $DIR/containerd/containerd.sock" 2>/dev/null || true
  bash "$here/control-plane.sh" down "$DIR/cp" >/dev/null 2>&1 || true

  # mounts under DIR (pod volumes, container root filesystems, shm), deepest first
  local m
  while read -r m; do umount -l "$m" 2>/dev/null || true; done \
    < <(awk -v d="$DIR/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
  if [[ -f $DIR/cluster-state ]]; then
    # network namespaces, CNI results and pod logs that were not there before `up`
    local entry keep
    keep=$(sed -n 's/^#KEEP //p' "$DIR/cluster-state")
    while read -r entry; do
      [[ -n $entry ]] || continue
      grep -qxF "$entry" <<<"$keep" && continue
      [[ $entry == /run/netns/* ]] && umount "$entry" 2>/dev/null
      rm -rf "$entry"
    done < <(host_dir_entries)
    local d s value
    for d in "${HOST_DIRS[@]}"; do
      grep -q "^EXISTED_${d//\//_}=1" "$DIR/cluster-state" || rm -rf "$d"
    done
    for s in "${SYSCTLS[@]}"; do
      value=$(sed -n "s/^SYSCTL_${s//./_}=//p" "$DIR/cluster-state")
      [[ -z $value ]] || sysctl -q -w "$s=$value" >/dev/null 2>&1 || true
    done
  fi
  clean_iptables
  ip link delete "$BRIDGE" 2>/dev/null || true
  # containers' cgroups (containerd names them k8s.io/ID under each hierarchy)
  find /sys/fs/cgroup/*/k8s.io -depth -type d -exec rmdir {} \; 2>/dev/null || true

  local left=()
  [[ -z $(pgrep -f "$DIR/") ]] || left+=("processes: $(pgrep -af "$DIR/" | cut -c1-120 | paste -sd';')")
  ! grep -qF " $DIR/" /proc/self/mountinfo || left+=("mounts under $DIR")
  ! grep -qE '^:(KUBE-|CNI-)' <<<"$(iptables-save 2>/dev/null)" || left+=("iptables chains")
  ! ip link show "$BRIDGE" >/dev/null 2>&1 || left+=("the $BRIDGE bridge")
  rm -rf "$DIR"
  [[ ${#left[@]} -eq 0 ]] || die "left behind: ${left[*]}"
  log "down, nothing left behind"
}

cmd_import() {
  [[ -n ${1:-} && -d $1 && -f ${2:-} ]] || usage
  DIR=$(cd "$1" && pwd -P)
  ctr_ images import "$2" >/dev/null || die "could not import $2"
}

usage() {
  sed -n '7,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case "$cmd" in
  up) cmd_up "${1:-}" ;;
  down) cmd_down "${1:-}" ;;
  import) cmd_import "${1:-}" "${2:-}" ;;
  env) [[ -f ${1:-}/env ]] || die "${1:-}/env not found: run '$0 up ${1:-}' first"; cat "$1/env" ;;
  *) usage ;;
esac
