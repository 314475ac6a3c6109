#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kubectl and helm, and for the e2e node kubelet, kube-controller-manager,
# kube-scheduler and containerd (+ containerd-shim-runc-v2, ctr), from the Go module proxy; unpacks
# prometheus and promtool, and for the node runc, the CNI plugins (into cni/) and busybox (the
# workspace image's shell), from Debian's packages; all into a cache outside the clone, keyed by
# version, and prints the folder that holds them. A tool already there that reports the pinned
# version is not rebuilt, so a second run takes a second and CI on the same machine reuses the
# cache. Nothing is downloaded from GitHub releases or GCS (unreachable here), nothing is installed
# system-wide.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/versions.env
source "$here/tools/versions.env"

cache=${TILTLIB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tilt-lib-injector}
dir="$cache/tools/k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}-helm-${HELM_VERSION}"
mkdir -p "$dir"

log() { echo "tools: $*" >&2; }

# The nested modules are the build recipes; refuse to build if they drifted from versions.env.
grep -qE "go.etcd.io/etcd/server/v3 ${ETCD_VERSION}( |$)" "$here/tools/etcd/go.mod" ||
  { log "hack/tools/etcd/go.mod does not require etcd ${ETCD_VERSION}"; exit 1; }
grep -qE "k8s.io/kubernetes ${K8S_VERSION}( |$)" "$here/tools/kube/go.mod" ||
  { log "hack/tools/kube/go.mod does not require kubernetes ${K8S_VERSION}"; exit 1; }
grep -qE "github.com/containerd/containerd/v2 ${CONTAINERD_VERSION}( |$)" "$here/tools/containerd/go.mod" ||
  { log "hack/tools/containerd/go.mod does not require containerd ${CONTAINERD_VERSION}"; exit 1; }

export CGO_ENABLED=0 GOFLAGS=-mod=mod
staging=v0${K8S_VERSION#v1}          # v1.37.2 -> v0.37.2
major=${K8S_VERSION#v}; major=${major%%.*}
minor=${K8S_VERSION#v*.}; minor=${minor%%.*}
kver="-X k8s.io/component-base/version.gitVersion=${K8S_VERSION} \
 -X k8s.io/component-base/version.gitMajor=${major} -X k8s.io/component-base/version.gitMinor=${minor} \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=${K8S_VERSION} \
 -X k8s.io/client-go/pkg/version.gitMajor=${major} -X k8s.io/client-go/pkg/version.gitMinor=${minor}"
grep -q "k8s.io/api => k8s.io/api ${staging}\$" "$here/tools/kube/go.mod" ||
  { log "hack/tools/kube/go.mod does not replace the staging modules with ${staging}"; exit 1; }

# has NAME PATTERN: the cached binary exists and its --version output mentions PATTERN.
# The output is captured first: with pipefail, `tool | grep -q` fails whenever grep exits before
# the tool's last write (the tool dies of SIGPIPE), which made cached tools rebuild at random.
has() { [ -x "$dir/$1" ] || return 1; local out; out=$("$dir/$1" "${@:3}" 2>/dev/null) && [[ $out == *"$2"* ]]; }

build() { # build NAME MODULE_DIR PACKAGE LDFLAGS [TAGS]
  local start=$SECONDS
  log "building $1 (first time only; kube-apiserver and kubelet take ~8 minutes each on 2 cores)"
  (cd "$here/tools/$2" && go build -trimpath -tags "${5:-}" -ldflags "-s -w $4" -o "$dir/$1.tmp" "$3")
  mv "$dir/$1.tmp" "$dir/$1"
  log "built $1 in $((SECONDS - start))s"
}

has etcd "${ETCD_VERSION#v}" --version ||
  build etcd etcd go.etcd.io/etcd/server/v3 ""
has kube-apiserver "${K8S_VERSION}" --version ||
  build kube-apiserver kube k8s.io/kubernetes/cmd/kube-apiserver "$kver"
has kubectl "${K8S_VERSION}" version --client ||
  build kubectl kube k8s.io/kubernetes/cmd/kubectl "$kver"
# The e2e node. Same module and flags as kube-apiserver, so they share its compile cache.
for t in kubelet kube-controller-manager kube-scheduler; do
  has $t "${K8S_VERSION}" --version || build $t kube "k8s.io/kubernetes/cmd/$t" "$kver"
done
# no_btrfs: the btrfs snapshotter needs cgo and btrfs headers; the node uses overlayfs.
ctrd=github.com/containerd/containerd/v2
ctrdver="-X $ctrd/version.Version=${CONTAINERD_VERSION} -X $ctrd/version.Revision=${CONTAINERD_VERSION}"
for t in containerd containerd-shim-runc-v2 ctr; do
  has $t "${CONTAINERD_VERSION}" --version || build $t containerd "$ctrd/cmd/$t" "$ctrdver" no_btrfs
done
if ! has helm "${HELM_VERSION}" version --short; then
  start=$SECONDS
  log "building helm ${HELM_VERSION}"
  # Without the -X, helm reports only its minor ("v3.22") and `has` would never match.
  GOBIN="$dir" GOFLAGS= go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}" \
    "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
  log "built helm in $((SECONDS - start))s"
fi
# Debian packages: `apt-get download` needs no root once the package lists are there; a fresh
# machine has none, so refresh them once (CI runs as root) and retry. unpack PACKAGE VERSION leaves
# the package's files under $tmp/PACKAGE.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
unpack() {
  local start=$SECONDS
  log "fetching $1 $2 from Debian's archive"
  fetch() { (cd "$tmp" && apt-get download -q "$1=$2") >"$tmp/apt.log" 2>&1; }
  if ! fetch "$1" "$2"; then
    apt-get update -q >"$tmp/update.log" 2>&1 || log "apt-get update failed: $(tail -1 "$tmp/update.log")"
    fetch "$1" "$2" || { log "apt-get download $1=$2 failed: $(tail -1 "$tmp/apt.log")"
                         log "(the archive may have moved on: pick the version apt-cache policy $1 offers, in hack/tools/versions.env)"; exit 1; }
  fi
  dpkg-deb -x "$tmp/$1"_*.deb "$tmp/$1"
  log "unpacked $1 in $((SECONDS - start))s"
}
# put FILE NAME: installs an unpacked FILE as $dir/NAME, atomically.
put() { mkdir -p "$(dirname "$dir/$2")"; install -m 0755 "$1" "$dir/$2.tmp" && mv "$dir/$2.tmp" "$dir/$2"; }

if ! has prometheus "${PROMETHEUS_VERSION}" --version || ! has promtool "${PROMETHEUS_VERSION}" --version; then
  unpack prometheus "${PROMETHEUS_DEB_VERSION}"
  for b in prometheus promtool; do put "$tmp/prometheus/usr/bin/$b" "$b"; done
  has prometheus "${PROMETHEUS_VERSION}" --version ||
    { log "the unpacked prometheus does not report ${PROMETHEUS_VERSION}"; exit 1; }
fi
if ! has runc "${RUNC_VERSION}" --version; then
  unpack runc "${RUNC_DEB_VERSION}"
  put "$tmp/runc/usr/sbin/runc" runc
  has runc "${RUNC_VERSION}" --version || { log "the unpacked runc does not report ${RUNC_VERSION}"; exit 1; }
fi
if ! has busybox "${BUSYBOX_VERSION}" --help; then
  unpack busybox-static "${BUSYBOX_DEB_VERSION}"
  put "$tmp/busybox-static/bin/busybox" busybox
  has busybox "${BUSYBOX_VERSION}" --help || { log "the unpacked busybox does not report ${BUSYBOX_VERSION}"; exit 1; }
fi
# The CNI plugins report "version unknown", so a stamp file records which package they came from;
# the stamp is written last, so an interrupted unpack is redone.
if [ "$(cat "$dir/cni/.deb-version" 2>/dev/null)" != "${CNI_DEB_VERSION}" ]; then
  unpack containernetworking-plugins "${CNI_DEB_VERSION}"
  for b in bridge host-local loopback; do put "$tmp/containernetworking-plugins/usr/lib/cni/$b" "cni/$b"; done
  echo "${CNI_DEB_VERSION}" >"$dir/cni/.deb-version"
fi
echo "$dir"
