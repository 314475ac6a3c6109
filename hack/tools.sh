#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kubectl and helm from the Go module proxy, and unpacks prometheus and
# promtool from Debian's package, into a cache outside the clone, keyed by version, and prints the
# folder that holds them. A tool already there that reports
# the pinned version is not rebuilt, so a second run takes a second and CI on the same machine reuses
# the cache. Nothing is downloaded from GitHub releases or GCS (unreachable here).
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

build() { # build NAME MODULE_DIR PACKAGE LDFLAGS
  local start=$SECONDS
  log "building $1 (first time only; kube-apiserver takes ~8 minutes on 2 cores)"
  (cd "$here/tools/$2" && go build -trimpath -ldflags "-s -w $4" -o "$dir/$1.tmp" "$3")
  mv "$dir/$1.tmp" "$dir/$1"
  log "built $1 in $((SECONDS - start))s"
}

has etcd "${ETCD_VERSION#v}" --version ||
  build etcd etcd go.etcd.io/etcd/server/v3 ""
has kube-apiserver "${K8S_VERSION}" --version ||
  build kube-apiserver kube k8s.io/kubernetes/cmd/kube-apiserver "$kver"
has kubectl "${K8S_VERSION}" version --client ||
  build kubectl kube k8s.io/kubernetes/cmd/kubectl "$kver"
if ! has helm "${HELM_VERSION}" version --short; then
  start=$SECONDS
  log "building helm ${HELM_VERSION}"
  # Without the -X, helm reports only its minor ("v3.22") and `has` would never match.
  GOBIN="$dir" GOFLAGS= go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}" \
    "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
  log "built helm in $((SECONDS - start))s"
fi
# Prometheus: `apt-get download` needs no root once the package lists are there; a fresh machine
# has none, so refresh them once (CI runs as root) and retry.
if ! has prometheus "${PROMETHEUS_VERSION}" --version || ! has promtool "${PROMETHEUS_VERSION}" --version; then
  start=$SECONDS
  log "fetching prometheus ${PROMETHEUS_DEB_VERSION} from Debian's archive"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  fetch() { (cd "$tmp" && apt-get download -q "prometheus=${PROMETHEUS_DEB_VERSION}") >"$tmp/apt.log" 2>&1; }
  if ! fetch; then
    apt-get update -q >"$tmp/update.log" 2>&1 || log "apt-get update failed: $(tail -1 "$tmp/update.log")"
    fetch || { log "apt-get download prometheus=${PROMETHEUS_DEB_VERSION} failed: $(tail -1 "$tmp/apt.log")"
               log "(the archive may have moved on: pick the version apt-cache policy prometheus offers, in hack/tools/versions.env)"; exit 1; }
  fi
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
  for b in prometheus promtool; do install -m 0755 "$tmp/x/usr/bin/$b" "$dir/$b.tmp" && mv "$dir/$b.tmp" "$dir/$b"; done
  has prometheus "${PROMETHEUS_VERSION}" --version ||
    { log "the unpacked prometheus does not report ${PROMETHEUS_VERSION}"; exit 1; }
  log "unpacked prometheus and promtool in $((SECONDS - start))s"
fi
echo "$dir"
