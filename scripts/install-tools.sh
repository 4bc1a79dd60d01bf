#!/usr/bin/env bash
# Installs the lint tools that `make lint` needs into a cache directory outside
# the repo, so CI runs and dev sessions on the same machine reuse one build.
#
#   TOOLS_BIN  where binaries go (default: $XDG_CACHE_HOME/aks-gitops/bin,
#              falling back to ~/.cache/aks-gitops/bin)
#
# golangci-lint and actionlint are built from the Go module proxy with the
# local toolchain: a linter built with an older Go than the module targets
# refuses to run, so building here keeps the two in step. shellcheck comes
# from Debian. A tool already installed at its pinned version is skipped.
set -euo pipefail

GOLANGCI_LINT_VERSION=v2.15.0
ACTIONLINT_VERSION=v1.7.12
# benchstat compares the benchmark guard's results with its baseline
# (scripts/bench-guard.sh).
BENCHSTAT_VERSION=v0.0.0-20260908200009-22c9c6c9d4da
# gator, promtool and amtool, the upstream CLIs the tests compare with, are
# built in the module the harness binaries share (scripts/lib/harnessmod.sh
# has their versions).
shared_tools=(gator promtool amtool)

bin_dir=${TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/bin}
mkdir -p "$bin_dir"

log() { printf 'install-tools: %s\n' "$*" >&2; }

# The stamp records the Go toolchain too: golangci-lint built with an older Go
# than the code it checks refuses to run, so a toolchain upgrade rebuilds it.
go_version=$(cd / && GOTOOLCHAIN=local go env GOVERSION)

# installed NAME VERSION: true when $bin_dir/NAME is there at VERSION, built
# with this Go (its stamp file says so); otherwise clears the stamp so an
# interrupted build is never taken for a finished one.
installed() {
	local name=$1 version=$2
	local stamp="$bin_dir/.$name.version"
	if [[ -x "$bin_dir/$name" && -f "$stamp" && "$(<"$stamp")" == "$version $go_version" ]]; then
		log "$name $version ($go_version) already installed"
		return 0
	fi
	log "building $name $version with $go_version"
	rm -f "$stamp"
	return 1
}

# stamp NAME VERSION records a finished build.
stamp() {
	printf '%s %s\n' "$2" "$go_version" >"$bin_dir/.$1.version"
}

# go_install NAME PACKAGE VERSION builds PACKAGE@VERSION into $bin_dir/NAME.
go_install() {
	local name=$1 pkg=$2 version=$3
	installed "$name" "$version" && return
	# Run outside the repo so its go.mod plays no part; GOTOOLCHAIN=local
	# fails loudly instead of fetching a different toolchain behind our back.
	(cd / && GOBIN="$bin_dir" GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
		go install "$pkg@$version")
	stamp "$name" "$version"
}

go_install golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint "$GOLANGCI_LINT_VERSION"
go_install actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"
go_install benchstat golang.org/x/perf/cmd/benchstat "$BENCHSTAT_VERSION"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/harnessmod.sh
. "$root/scripts/lib/harnessmod.sh"
for name in "${shared_tools[@]}"; do
	want=$(harness_stamp "$name")
	if [[ -x "$bin_dir/$name" && -f "$bin_dir/.$name.version" && "$(<"$bin_dir/.$name.version")" == "$want" ]]; then
		log "$name already built"
		continue
	fi
	log "building $name with $go_version"
	rm -f "$bin_dir/.$name.version"
	harness_build "$name" "$bin_dir/$name"
	printf '%s\n' "$want" >"$bin_dir/.$name.version"
done

# The real kube-apiserver and etcd that the Go tests start (make test runs
# them; tools/internal/testenv). Cached in their own dir, see the script.
testenv_dir=$(bash "$root/scripts/testenv.sh")
# The controllers the control-plane tests run against it (Flux's, Gatekeeper).
controllers_dir=$(bash "$root/scripts/controllers.sh")

# From Debian: shellcheck for make lint, and Chromium, the real browser the
# HTML report tests open their pages in (CHROMIUM names another; GitHub's
# runners have one already).
debs=()
command -v shellcheck >/dev/null 2>&1 || debs+=(shellcheck)
if [[ -z ${CHROMIUM:-} ]] && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
	debs+=(chromium)
fi
if ((${#debs[@]} > 0)); then
	log "installing ${debs[*]} from Debian"
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		sudo=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${debs[@]}" >/dev/null
fi

log "golangci-lint: $("$bin_dir/golangci-lint" version --short 2>/dev/null || echo '?')"
log "actionlint:    $("$bin_dir/actionlint" -version 2>/dev/null | head -n1)"
log "benchstat:     $BENCHSTAT_VERSION"
log "shellcheck:    $(shellcheck --version | sed -n 's/^version: //p')"
log "chromium:      $("${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome)}" --version 2>/dev/null)"
log "promtool:      $("$bin_dir/promtool" --version 2>/dev/null | head -n1)"
log "gator:         $("$bin_dir/gator" version 2>/dev/null | sed -n 's/^GitVersion: *//p')"
log "amtool:        $("$bin_dir/amtool" --version 2>&1 | head -n1)"
log "testenv:       $testenv_dir"
log "controllers:   $controllers_dir"
log "tools are in $bin_dir"
