#!/usr/bin/env bash
# Times the live diff (`tools diff --live`'s engine, tools/internal/drift) of
# 2,000 objects - ConfigMaps, Deployments and Services across 20 namespaces,
# applied first as kustomize-controller would, 20 of them then edited by
# hand - against a local kube-apiserver, side by side with
# `kubectl diff --server-side` on the same objects and the same server.
#
#   scripts/bench-drift.sh            # 3 runs of each
#   BENCH_RUNS=5 scripts/bench-drift.sh
#   BENCH_OBJECTS=5000 scripts/bench-drift.sh
#
# The API server is the one the tests use (scripts/testenv.sh builds it
# once). kubectl is built from the Go module proxy (k8s.io/kubernetes
# cmd/kubectl, the version of the test API server) into
# ${BENCH_BIN:-~/.cache/aks-gitops/bench-bin} once, like scripts/testenv.sh
# builds kube-apiserver (about 3 minutes on 2 cores).
set -euo pipefail

KUBE_VERSION=v1.36.3

log() { printf 'bench-drift: %s\n' "$*" >&2; }

root=$(cd "$(dirname "$0")/.." && pwd)
bin_dir=${BENCH_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/bench-bin}
go_version=$(cd / && GOTOOLCHAIN=local go env GOVERSION)
stamp="$bin_dir/.kubectl.version"
want="kubectl $KUBE_VERSION $go_version"

gobuild() {
	GOTOOLCHAIN=local GOFLAGS='-mod=mod -buildvcs=false' "$@"
}

# kubectl, built the way scripts/testenv.sh builds kube-apiserver: the
# k8s.io/kubernetes module needs each staging module replaced by its
# published release (v1.X.Y -> v0.X.Y).
build_kubectl() {
	local work mod staging_version="v0.${KUBE_VERSION#v1.}"
	work=$(mktemp -d)
	trap 'rm -rf "$work"' RETURN
	mod="$work/kubectl"
	mkdir -p "$mod"
	local gomod
	gomod=$(cd "$mod" && gobuild go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" |
		sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
	local staging
	staging=$(sed -n 's|^[[:space:]]*\(k8s.io/[^ ]*\) => \./staging/.*|\1|p' "$gomod")
	if [[ -z $staging ]]; then
		log "no staging replacements found in $gomod"
		return 1
	fi
	{
		printf 'module benchbuild/kubectl\n\ngo 1.26.0\n\n'
		printf 'require k8s.io/kubernetes %s\n\n' "$KUBE_VERSION"
		local m
		for m in $staging; do
			printf 'replace %s => %s %s\n' "$m" "$m" "$staging_version"
		done
	} >"$mod/go.mod"
	printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kubectl"\n' >"$mod/tools.go"
	local minor=${KUBE_VERSION#v1.}
	minor=${minor%%.*}
	local ldflags="-s -w" pkg
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
	done
	(cd "$mod" && gobuild go mod tidy &&
		gobuild go build -trimpath -ldflags "$ldflags" -o "$bin_dir/kubectl" k8s.io/kubernetes/cmd/kubectl)
}

mkdir -p "$bin_dir"
if [[ -x $bin_dir/kubectl && -f $stamp && "$(<"$stamp")" == "$want" ]]; then
	log "kubectl $KUBE_VERSION ($go_version) already built in $bin_dir"
else
	rm -f "$stamp" "$bin_dir/kubectl"
	start=$SECONDS
	log "building kubectl $KUBE_VERSION with $go_version into $bin_dir (about 3 minutes on 2 cores)"
	build_kubectl
	printf '%s\n' "$want" >"$stamp"
	log "kubectl built in $((SECONDS - start))s"
fi

"$root/scripts/testenv.sh" >/dev/null

cd "$root"
log "live diff of ${BENCH_OBJECTS:-2000} objects, ${BENCH_RUNS:-3} runs each (BenchmarkLiveDiff in tools/internal/drift)"
BENCH_KUBECTL="$bin_dir/kubectl" BENCH_OBJECTS=${BENCH_OBJECTS:-2000} \
	go test -run '^$' -bench '^BenchmarkLiveDiff$' -benchtime "${BENCH_RUNS:-3}x" -timeout 30m ./tools/internal/drift/ |
	tee /dev/stderr |
	awk '/^BenchmarkLiveDiff/ {
		for (i = 1; i <= NF; i++) {
			if ($(i+1) == "ns/op") ours = $i / 1e9
			if ($(i+1) == "kubectl-s/op") kubectl = $i
		}
	}
	END {
		if (ours == 0) { print "bench-drift: no result" > "/dev/stderr"; exit 1 }
		printf "live diff: %.2f s   kubectl diff --server-side: %.2f s   ratio: %.1fx\n", ours, kubectl, kubectl / ours
	}'
