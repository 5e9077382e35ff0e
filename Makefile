# enigate — see README.md. Two commands do all set-up: `make run` and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := $(CURDIR)/bin
ENIGATE   := $(BIN)/enigate
K8S_VERSION := 1.36.3
ENVTEST_ASSETS := $(BIN)/k8s/$(K8S_VERSION)
KUSTOMIZE_VERSION := v5.8.2
KUSTOMIZE := $(BIN)/kustomize-$(KUSTOMIZE_VERSION)
EKSCTL_VERSION := $(shell awk '$$1 == "github.com/weaveworks/eksctl" {sub(/^v/, "", $$2); print $$2}' test/tools/eksctl/go.mod)
EKSCTL    := $(BIN)/eksctl-$(EKSCTL_VERSION)
OVERLAYS  := $(sort $(dir $(wildcard overlays/*/environment.cue)))
# The commit stamped into binaries (enigate version); -dirty when tracked files changed.
COMMIT    := $(shell git rev-parse HEAD 2>/dev/null)$(if $(shell git status --porcelain --untracked-files=no 2>/dev/null),-dirty)
LDFLAGS   := -X github.com/enigate/enigate/schema/release.commit=$(COMMIT)
FUZZTIME  ?= 10s

export KUBEBUILDER_ASSETS := $(ENVTEST_ASSETS)
# Every go command here compiles as the image builder does (test/tools/image: static, paths
# trimmed), so `go test ./...` and the image's linux/amd64 build share one compile of each package
# in the Go build cache instead of compiling the product's graph twice (docs/benchmarks.md, CI).
export CGO_ENABLED := 0
export GOFLAGS := $(strip $(filter-out -trimpath,$(shell $(GO) env GOFLAGS)) -trimpath)

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/enigate
	$(GO) build -ldflags "$(LDFLAGS)" -o $(ENIGATE) ./cmd/enigate

.PHONY: image
image: ## build the linux/amd64+arm64 OCI image layout into bin/image, SBOMs into bin/sbom (no daemon)
	$(GO) -C test/tools/image run . -repo $(CURDIR) -out $(BIN)/image -sbom $(BIN)/sbom

$(KUSTOMIZE):
	@mkdir -p $(BIN)
	GOBIN=$(BIN)/.kustomize $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(BIN)/.kustomize/kustomize $(KUSTOMIZE)

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## install the kustomize CLI (built from the Go module proxy)

.PHONY: envtest
envtest: ## build kube-apiserver and etcd from source into bin/k8s/<version> (cached)
	test/tools/build.sh $(ENVTEST_ASSETS) >/dev/null

$(EKSCTL):
	test/tools/eksctl/build.sh $(EKSCTL)

.PHONY: eksctl
eksctl: $(EKSCTL) ## build the real eksctl from the Go module proxy into bin/eksctl-<version> (cached)

.PHONY: test-eksctl
test-eksctl: eksctl ## load every rendered eksctl phase file with eksctl's code; run the binary against a loopback AWS stand-in
	cd test/tools/eksctl && CGO_ENABLED=0 EKSCTL=$(EKSCTL) EKSCTL_REQUIRED=1 $(GO) test -trimpath -count=1 -timeout 30m ./...

.PHONY: run
run: build kustomize ## render the example environments, check them, build each overlay with kustomize
	$(ENIGATE) render --quiet
	$(ENIGATE) render --check
	@for d in $(OVERLAYS); do \
	  n=$$($(KUSTOMIZE) build $$d | grep -c '^kind:'); \
	  echo "$$d: kustomize build OK, $$n objects"; \
	done

.PHONY: generate
generate: ## regenerate eBPF objects (installs clang from apt when missing) and vendored CRDs
	bpf/generate.sh
	generators/crds/vendor.sh
	generators/karpenter/vendor.sh

.PHONY: check-generated
check-generated: generate ## regenerate every generated file and fail if any differs from the commit
	@git diff --exit-code --stat -- . || { echo "generated files differ from the commit: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain --untracked-files=all -- bpf generators/crds)" || { git status --short -- bpf generators/crds; echo "make generate left new files"; exit 1; }

# go test -vet=off: go vet ./... has run every analyzer; go test's own subset would redo it.
.PHONY: test
test: build envtest eksctl ## run every test (real API server, eBPF as root, git, kustomize)
	$(GO) vet ./...
	$(GO) -C test/tools/image vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(ENIGATE) render --check --quiet
	ENVTEST_REQUIRED=$${ENVTEST_REQUIRED:-$${CI:+1}} $(GO) test -vet=off -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory test-eksctl
	$(MAKE) --no-print-directory fuzz-short
	$(MAKE) --no-print-directory test-helm
	$(MAKE) --no-print-directory test-promrules

.PHONY: fuzz-short
fuzz-short: ## run each fuzz target briefly (FUZZTIME, default 10s)
	@grep -rl --include='*_test.go' '^func Fuzz' . | while read -r f; do \
	  pkg=./$$(dirname $${f#./}); \
	  for fz in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/^func //'); do \
	    echo "fuzz $$pkg $$fz ($(FUZZTIME))"; \
	    $(GO) test -vet=off -run '^$$' -fuzz "^$$fz$$" -fuzztime $(FUZZTIME) $$pkg >/dev/null || { $(GO) test -vet=off -run '^$$' -fuzz "^$$fz$$" -fuzztime $(FUZZTIME) $$pkg; exit 1; }; \
	  done; \
	done

.PHONY: bench
bench: build envtest ## run the benchmarks (results: docs/benchmarks.md)
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 30m ./...

.PHONY: clean
clean: ## remove built binaries (keeps the envtest cache)
	rm -f $(ENIGATE)
	rm -rf $(BIN)/image $(BIN)/sbom

.PHONY: test-promrules
test-promrules: ## parse the rendered PrometheusRules with Prometheus's rulefmt and evaluate their alerts (test/promrules)
	cd test/promrules && $(GO) vet ./... && $(GO) test -vet=off -count=1 ./...

.PHONY: test-helm
test-helm: envtest ## render and install the Cilium, cert-manager and AWS Load Balancer Controller charts with helm (test/helm)
	test/tools/samedeps.sh . test/helm
	cd test/helm && ENVTEST_REQUIRED=$${ENVTEST_REQUIRED:-$${CI:+1}} $(GO) test -count=1 -timeout 30m ./...
