# tilt-lib-injector. `make help` lists the targets.
SHELL := /usr/bin/env bash -o pipefail
.DEFAULT_GOAL := help

GO       ?= go
BIN      ?= bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
MODULE   := github.com/platform-tools/tilt-lib-injector
# Control-plane and node tools (etcd, kube-apiserver, kubectl, helm, kubelet, containerd, ...) are
# built from the Go module proxy into a cache outside the clone; hack/tools.sh prints their folder.
TOOLS     = $(shell hack/tools.sh)
FUZZTIME ?= 20s
# Tracked files exempt from `make lint`'s check for executable binaries and files over 1 MB
# (hack/check-tracked.sh): space-separated paths or globs. Empty: nothing deserves an exception yet.
TRACKED_ALLOW ?=
# `make image`: name and tag of the OCI image; the tag defaults to the chart's appVersion, which the
# chart's image.tag follows, so a pushed `make image` is what `helm install` pulls.
IMAGE     ?= ghcr.io/platform-tools/tilt-lib-injector
IMAGE_TAG ?= $(shell sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' charts/tilt-lib-injector/Chart.yaml)
SOURCE    ?= https://github.com/platform-tools/tilt-lib-injector
PLATFORMS ?= linux/amd64 linux/arm64

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} \
	  /^[a-zA-Z_-]+:.*?##/ { printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2 } \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: build
build: ## Build bin/webhook.
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/webhook ./cmd/webhook

.PHONY: test
test: lint unit e2e ## Everything CI runs: lint, unit tests, then the e2e suite on a real control plane.

.PHONY: unit
unit: tools ## Unit, golden, handler, CLI and chart tests (no control plane; the chart tests run helm).
	KUBEBUILDER_ASSETS="$(TOOLS)" $(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run '^(TestAllocations|TestHostile)' -bench . -benchtime 1x ./pkg/... # every benchmark once, so they stay correct; allocation counts and the heap under hostile connections without -race
	cd hack/image && $(GO) test -count=1 ./...

.PHONY: e2e
e2e: tools ## End-to-end tests against a real kube-apiserver + etcd, then on a real node (kubelet + containerd; root only).
	KUBEBUILDER_ASSETS="$(TOOLS)" $(GO) test -tags e2e -count=1 -timeout 20m $$($(GO) list -tags e2e ./e2e/... | grep -v '/e2e/node$$\|/e2e/faults$$')
	@# The fault matrix, short form, alone: its timings are what it measures.
	KUBEBUILDER_ASSETS="$(TOOLS)" $(GO) test -tags e2e -count=1 -timeout 10m ./e2e/faults/
	@# Not in the same `go test`: packages run in parallel, and two control planes can hand out the
	@# same loopback ClusterIP, on which both webhooks then try to listen.
	KUBEBUILDER_ASSETS="$(TOOLS)" $(GO) test -tags e2e -count=1 -timeout 5m ./hack/loadtest/...
	@# The node last and alone (it changes host state and restores it); -v shows its timings, or
	@# the one line saying why it was skipped (not root).
	KUBEBUILDER_ASSETS="$(TOOLS)" $(GO) test -tags e2e -count=1 -timeout 15m -v ./e2e/node/

.PHONY: faults
faults: tools ## The fault matrix in full (e2e/faults: longer runs per fault + a 10-minute soak; ~20 min). `make e2e` runs its short form.
	KUBEBUILDER_ASSETS="$(TOOLS)" TILTLIB_FAULTS=full $(GO) test -tags e2e -count=1 -timeout 40m -v ./e2e/faults/

.PHONY: lint
lint: ## gofmt/goimports, go mod tidy, go vet, staticcheck, no binaries or files over 1 MB tracked, chart README not stale.
	hack/check-tracked.sh $(foreach p,$(TRACKED_ALLOW),'$(p)')
	$(GO) run ./hack/chartdocs -check
	@$(MAKE) --no-print-directory manifests-check
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@out=$$($(GO) tool goimports -local $(MODULE) -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "goimports needed (standard library, then others, then $(MODULE)): $(GO) tool goimports -local $(MODULE) -w"; echo "$$out"; exit 1; fi
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	@cd hack/image && $(GO) mod tidy -diff >/dev/null || { echo "hack/image/go.mod is not tidy: run go mod tidy there"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/... ./hack/loadtest/...
	cd hack/image && $(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) tool staticcheck -tags e2e ./e2e/... ./hack/loadtest/...

.PHONY: bench
bench: ## Benchmarks: direct JSON patch vs marshal-and-diff; whole reviews per size: empty, naive, old and new path.
	$(GO) test -run '^$$' -bench . -benchmem -count 3 ./pkg/...

# `make loadtest` flags (hack/loadtest -help lists them), e.g. LOADTEST_ARGS="-rounds 5 -markdown /tmp/load.md".
LOADTEST_ARGS ?=

.PHONY: loadtest
loadtest: tools ## Loopback control plane + webhook serve + empty/naive/constant-patch webhooks: closed and open loop over TLS, Pod creates (~6 min).
	KUBEBUILDER_ASSETS="$(TOOLS)" $(GO) run ./hack/loadtest $(LOADTEST_ARGS)

.PHONY: fuzz
fuzz: ## Short fuzz runs: the mutation core, and the admission path against controller-runtime (FUZZTIME=20s each).
	$(GO) test -run '^$$' -fuzz FuzzMutate -fuzztime $(FUZZTIME) ./pkg/mutate
	$(GO) test -run '^$$' -fuzz FuzzDifferential -fuzztime $(FUZZTIME) ./pkg/review

##@ Deployment

.PHONY: chart-docs
chart-docs: ## Regenerate the values table of charts/tilt-lib-injector/README.md from values.yaml.
	$(GO) run ./hack/chartdocs

.PHONY: image
image: ## OCI image (amd64+arm64, no Docker) into dist/tilt-lib-injector.oci.tar; push: crane push dist/... IMAGE:TAG.
	@for p in $(PLATFORMS); do \
	  echo "build $$p"; \
	  CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/$${p%/*}-$${p#*/}/webhook ./cmd/webhook || exit 1; \
	done
	cd hack/image && $(GO) run . webhook -out ../../dist/tilt-lib-injector.oci.tar -ref $(IMAGE):$(IMAGE_TAG) \
	  -version $(IMAGE_TAG) -source $(SOURCE) $(foreach p,$(PLATFORMS),-binary $(p)=../../$(BIN)/$(subst /,-,$(p))/webhook)

.PHONY: manifests
manifests: tools ## Render manifests/tilt-lib-injector.yaml (kustomize base) and manifests/monitoring/ from the chart.
	hack/manifests.sh "$(TOOLS)/helm" manifests

.PHONY: manifests-check
manifests-check: tools ## Fail when manifests/ is stale (part of lint).
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; hack/manifests.sh "$(TOOLS)/helm" "$$tmp"; \
	  { diff -u manifests/tilt-lib-injector.yaml "$$tmp/tilt-lib-injector.yaml" && \
	    diff -u manifests/monitoring/monitoring.yaml "$$tmp/monitoring/monitoring.yaml"; } >/dev/null || \
	  { echo "manifests/ is stale: run make manifests"; exit 1; }

##@ Local control plane

.PHONY: tools
tools: ## Build etcd, kube-apiserver, kubectl, helm, kubelet, kube-controller-manager, kube-scheduler, containerd (+ Debian prometheus, runc, CNI plugins, busybox) into ~/.cache/tilt-lib-injector.
	@hack/tools.sh >/dev/null

.PHONY: demo
demo: tools ## Start a local control plane + the webhook, apply examples/, show what got injected.
	KUBEBUILDER_ASSETS="$(TOOLS)" $(GO) run ./e2e/demo
