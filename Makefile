# Everything CI runs is reachable from here: `make test` is the CI gate.
# Run `make help` for the list of targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO ?= go

# Lint tools live outside the repo so CI runs and sessions reuse one build
# (scripts/install-tools.sh puts them there).
TOOLS_BIN ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/aks-gitops/bin
export TOOLS_BIN
export PATH := $(TOOLS_BIN):$(PATH)

# Static builds, as the harness builds its controllers and the upstream CLIs
# (scripts/lib/harnessmod.sh: they run chrooted): go vet and go test with the
# same flags share every compiled package with them, so a cold run compiles
# Kubernetes, Helm and OPA once.
CGO_ENABLED ?= 0
export CGO_ENABLED

# go test flags. For the race detector (it needs cgo):
# make test GOTEST_FLAGS='-race -count=1' CGO_ENABLED=1 (the first run
# rebuilds the whole Kubernetes and Helm dependency tree instrumented).
# -timeout: go test's default (10 minutes per package) is about twice what
# tools/internal/cli takes on an idle 2-core machine; a loaded one needs more.
GOTEST_FLAGS ?= -count=1 -timeout 30m

ifndef VERSION
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
endif

SHELL_SCRIPTS := .ci/run $(wildcard scripts/*.sh scripts/lib/*.sh)
WORKFLOWS := $(wildcard .github/workflows/*.yml)

# --- render ------------------------------------------------------------------
# Every cluster under clusters/ (charts from their repositories, cached; pass
# CHARTS=dir OFFLINE=1 to use local chart copies without a network).
PATHS ?= $(patsubst %/,%,$(wildcard clusters/*/))
# The render goes to a file (a cold render is thousands of lines); OUT=- for
# stdout, OUT=dir/ for one file per Flux object.
OUT ?= out/render.yaml

# Extra flags given as RENDER_FLAGS=... on the command line come first.
override RENDER_FLAGS += $(if $(CHARTS),--charts $(CHARTS))
override RENDER_FLAGS += -o $(OUT)
override RENDER_FLAGS += $(if $(CACHE_DIR),--cache-dir $(CACHE_DIR))
override RENDER_FLAGS += $(if $(filter 1 true yes,$(OFFLINE)),--offline)
override RENDER_FLAGS += $(if $(KUBE_VERSION),--kube-version $(KUBE_VERSION))
override RENDER_FLAGS += $(if $(filter 1 true yes,$(SHOW_SECRETS)),--show-secrets)

.PHONY: help render example build test vet gotest fuzz lint rules-test policy-test renovate-check fmt bench tools testenv controllers e2e clean

help: ## List the targets
	@echo 'Usage: make TARGET [VAR=value ...]'
	@awk 'BEGIN { FS = ":.*## " } /^[a-z0-9-]+:.*## / { printf "  %-15s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo 'render: PATHS CHARTS OUT (default out/render.yaml, - for stdout) CACHE_DIR OFFLINE=1 KUBE_VERSION SHOW_SECRETS=1 RENDER_FLAGS'
	@echo 'test:   GOTEST_FLAGS (default $(GOTEST_FLAGS))'

render: ## Render cluster paths (default: every clusters/*/) to OUT (default out/render.yaml; OUT=- for stdout)
	@$(if $(filter -,$(OUT)),,mkdir -p $(dir $(OUT)))
	$(GO) run ./tools render $(PATHS) $(strip $(RENDER_FLAGS))

example: ## Render the example cluster offline, with its local charts
	$(GO) run ./tools render testdata/example/clusters/demo --offline --charts testdata/example/charts -o $(if $(filter command line,$(origin OUT)),$(OUT),-)

# -s -w drop the symbol table and DWARF: over a quarter of the file, and
# panics still print file:line stack traces. (No -trimpath: it compiles
# every package apart from go test and go run, so a build after a test run
# would compile everything again instead of only linking.)
build: ## Build bin/tools, stamped with VERSION (stripped)
	$(GO) build -ldflags "-s -w -X main.version=$(VERSION)" -o bin/tools ./tools

# -k runs every step even after one fails, so one CI run reports all of them;
# go test goes last so its summary closes the output.
# Installs what it needs first (`make tools`: a stamp check per tool when they
# are there already), so on a fresh machine `make test` is all it takes.
# Fuzzing is not part of it: every target's seed corpus runs in go test
# anyway, and the fuzzing engine's coverage-instrumented build of every
# dependency cost a cold run 11 minutes of its 90 (the fuzz workflow runs
# make fuzz every night instead, for longer).
test: tools ## Everything CI runs: installs the tools, then vet, lint, rules-test, policy-test, renovate-check, bench-guard, go test (fails if any step fails)
	$(MAKE) --no-print-directory -j1 -k vet lint rules-test policy-test renovate-check bench-guard gotest

vet: ## go vet ./...
	$(GO) vet ./...

# Screenshots and other files a person should look at after the run (the
# HTML reports in Chromium) go to out/test-artifacts; CI uploads them.
gotest: ## go test ./... with GOTEST_FLAGS (screenshots to out/test-artifacts)
	@mkdir -p out/test-artifacts
	TEST_ARTIFACTS=$(CURDIR)/out/test-artifacts $(GO) test $(GOTEST_FLAGS) ./...

# Every func FuzzXxx in a _test.go under tools/, found by name. go test
# -fuzz takes one target per package and run, so they run one after the
# other; a failure is reported and the rest still run. A crasher is written
# to the package's testdata/fuzz/FuzzXxx/: keep it as a seed once fixed.
# Longer runs: make fuzz FUZZTIME=3m (docs/fuzzing.md).
FUZZTIME ?= 5s

fuzz: ## Run every Go fuzz target for FUZZTIME each (default 5s)
	@failed=(); \
	for f in $$(grep -rl --include='*_test.go' --exclude-dir=testdata '^func Fuzz' tools | sort); do \
		for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do \
			echo "fuzz ./$${f%/*} $$t ($(FUZZTIME))"; \
			$(GO) test "./$${f%/*}" -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) 2>&1 \
				| grep -v '^fuzz: elapsed' || failed+=("./$${f%/*} $$t"); \
		done; \
	done; \
	if (( $${#failed[@]} )); then printf 'fuzz: failed: %s\n' "$${failed[@]}" >&2; exit 1; fi

lint: ## golangci-lint, shellcheck and actionlint
	@for t in golangci-lint shellcheck actionlint; do \
		command -v $$t >/dev/null || { echo "lint: $$t not found; run 'make tools'" >&2; exit 2; }; \
	done
	golangci-lint run --config .golangci.yml ./...
	shellcheck $(SHELL_SCRIPTS)
	actionlint $(WORKFLOWS)

rules-test: ## promtool check + unit tests of our PrometheusRules
	bash scripts/test-prometheus-rules.sh

policy-test: ## Gatekeeper suites (tools policy verify), then tools check on the rendered policy and apps layers of both clusters
	$(GO) run ./tools policy verify
	bash scripts/policy-check.sh

renovate-check: ## Renovate's config validator, then an offline extraction that must find every pinned version
	bash scripts/renovate-check.sh

fmt: ## Format Go code with the linter's formatters (gofumpt)
	golangci-lint fmt --config .golangci.yml ./...

# The side-by-side table last: tools against the upstream CLI pipeline,
# kubeconform, kubectl diff and the flux CLI, each pair timed in the same run
# (scripts/bench-side.sh; the peers are built once into BENCH_BIN, about 10
# minutes the first time). RUNS=n runs of each (default 3); BENCH_ONLY picks
# peers (pipeline drift flux); CHARTS=dir: the pipeline on this repo's clusters.
bench: ## Synthetic render table, then tools vs upstream CLIs side by side (one Markdown table: pipeline, kubeconform, kubectl diff, flux build/diff)
	bash scripts/bench.sh
	CHARTS='$(CHARTS)' bash scripts/bench-side.sh

# The guard against slowdowns: BenchmarkGuard against the committed baseline
# testdata/bench/guard.txt with benchstat (scripts/bench-guard.sh has the
# limits); UPDATE=1 records a new baseline (on an idle machine).
bench-guard: ## Fail on a significant slowdown of BenchmarkGuard against its committed baseline (benchstat)
	bash scripts/bench-guard.sh

.PHONY: bench-go bench-guard
bench-go: ## The Go benchmarks (go test -bench, 3 iterations each)
	$(GO) test -run '^$$' -bench . -benchtime 3x -benchmem ./tools/...

tools: ## Install the tools make test needs: lint tools, gator/promtool/amtool, kube-apiserver/etcd, the controllers
	bash scripts/install-tools.sh

# Also run by `make tools`; TESTENV_BIN or KUBEBUILDER_ASSETS override the place.
testenv: ## Build the kube-apiserver and etcd the Go tests start (once, cached outside the repo)
	bash scripts/testenv.sh

# Also run by `make tools`; CONTROLLERS_BIN overrides the place.
controllers: ## Build the controllers the control-plane tests run (Flux's, Gatekeeper; once, cached outside the repo)
	bash scripts/controllers.sh

# The control-plane tests alone (gotest runs them with the rest): Flux's own
# controllers reconcile the render fixtures and the live diff finds what
# they applied equal to the render; helm-controller installs our releases
# whose charts the controllers' modules carry, equal to the render;
# Gatekeeper's manager, as each cluster configures it, admits the layers and
# what Envoy Gateway and ECK make of them through its webhook.
e2e: testenv controllers ## Control-plane tests alone: Flux reconciles fixtures and releases, Gatekeeper's webhook admits the layers and operator output
	$(GO) test $(GOTEST_FLAGS) -run 'TestRenderMatchesFlux|TestReleasesMatchHelmController|TestStackAdmission' ./tools/internal/cli/

clean: ## Remove build output (bin/, out/)
	rm -rf bin out
