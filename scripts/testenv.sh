#!/usr/bin/env bash
# Provides the real kube-apiserver and etcd that tools/internal/testenv starts
# for tests, and prints the directory holding them.
#
#   KUBEBUILDER_ASSETS  when set and holding kube-apiserver and etcd, those are
#                       used and nothing is built (the envtest convention)
#   TESTENV_BIN         where to build them (default:
#                       $XDG_CACHE_HOME/aks-gitops/testenv/<k8s-version>,
#                       falling back to ~/.cache/aks-gitops/testenv/<k8s-version>)
#
# Both are built from the Go module proxy with the local toolchain, each in a
# throwaway module outside the repo, so the project's go.mod plays no part.
# A stamp file records the versions and the Go toolchain; when it matches,
# nothing is rebuilt. Progress goes to stderr, the directory to stdout.
#
# Keep KUBE_VERSION in step with tools/internal/testenv (Version), which looks
# for the binaries in the same default directory.
set -euo pipefail

KUBE_VERSION=v1.36.3
ETCD_VERSION=v3.6.13

log() { printf 'testenv: %s\n' "$*" >&2; }

if [[ -n ${KUBEBUILDER_ASSETS:-} ]]; then
	if [[ -x $KUBEBUILDER_ASSETS/kube-apiserver && -x $KUBEBUILDER_ASSETS/etcd ]]; then
		log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
		printf '%s\n' "$KUBEBUILDER_ASSETS"
		exit 0
	fi
	log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks kube-apiserver or etcd; building our own"
fi

bin_dir=${TESTENV_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/testenv/$KUBE_VERSION}
stamp="$bin_dir/.stamp"
go_version=$(cd / && GOTOOLCHAIN=local go env GOVERSION)
want="kubernetes $KUBE_VERSION etcd $ETCD_VERSION $go_version"

if [[ -x $bin_dir/kube-apiserver && -x $bin_dir/etcd && -f $stamp && "$(<"$stamp")" == "$want" ]]; then
	log "kube-apiserver $KUBE_VERSION and etcd $ETCD_VERSION ($go_version) already built"
	printf '%s\n' "$bin_dir"
	exit 0
fi

mkdir -p "$bin_dir"
# go build refuses to overwrite a file that is not a Go binary.
rm -f "$stamp" "$bin_dir/kube-apiserver" "$bin_dir/etcd"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=scripts/lib/kubebuild.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/kubebuild.sh"

# etcd. Its main package lives in the go.etcd.io/etcd/v3 module, which has
# replace directives; etcdmain.Main in the server module is all it calls.
build_etcd() {
	local mod="$work/etcd"
	mkdir -p "$mod"
	printf 'module testenvbuild/etcd\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >"$mod/go.mod"
	cat >"$mod/main.go" <<'EOF'
// Command etcd is etcd's own entry point, built from the server module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
	(cd "$mod" && gobuild go mod tidy &&
		gobuild go build -trimpath -ldflags "-s -w" -o "$bin_dir/etcd" .)
}

start=$SECONDS
log "building etcd $ETCD_VERSION with $go_version into $bin_dir"
build_etcd
log "etcd built in $((SECONDS - start))s"
start=$SECONDS
log "building kube-apiserver $KUBE_VERSION with $go_version into $bin_dir (3 to 6 minutes on 2 cores)"
build_kube_command kube-apiserver "$bin_dir"
log "kube-apiserver built in $((SECONDS - start))s"
printf '%s\n' "$want" >"$stamp"
printf '%s\n' "$bin_dir"
