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

bin_dir=${TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/bin}
mkdir -p "$bin_dir"

log() { printf 'install-tools: %s\n' "$*" >&2; }

# The stamp records the Go toolchain too: golangci-lint built with an older Go
# than the code it checks refuses to run, so a toolchain upgrade rebuilds it.
go_version=$(cd / && GOTOOLCHAIN=local go env GOVERSION)

# go_install NAME PACKAGE VERSION builds PACKAGE@VERSION into $bin_dir/NAME
# unless the stamp file says that version is already there.
go_install() {
	local name=$1 pkg=$2 version=$3
	local stamp="$bin_dir/.$name.version"
	local want="$version $go_version"
	if [[ -x "$bin_dir/$name" && -f "$stamp" && "$(<"$stamp")" == "$want" ]]; then
		log "$name $version ($go_version) already installed"
		return
	fi
	log "building $name $version with $go_version"
	rm -f "$stamp"
	# Run outside the repo so its go.mod plays no part; GOTOOLCHAIN=local
	# fails loudly instead of fetching a different toolchain behind our back.
	(cd / && GOBIN="$bin_dir" GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
		go install "$pkg@$version")
	printf '%s\n' "$want" >"$stamp"
}

go_install golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint "$GOLANGCI_LINT_VERSION"
go_install actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"

if ! command -v shellcheck >/dev/null 2>&1; then
	log "installing shellcheck from Debian"
	sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		sudo=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq shellcheck >/dev/null
fi

log "golangci-lint: $("$bin_dir/golangci-lint" version --short 2>/dev/null || echo '?')"
log "actionlint:    $("$bin_dir/actionlint" -version 2>/dev/null | head -n1)"
log "shellcheck:    $(shellcheck --version | sed -n 's/^version: //p')"
log "tools are in $bin_dir"
