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

# kubectl, built the way scripts/testenv.sh builds kube-apiserver.
# shellcheck source=scripts/lib/kubebuild.sh
. "$root/scripts/lib/kubebuild.sh"

mkdir -p "$bin_dir"
if [[ -x $bin_dir/kubectl && -f $stamp && "$(<"$stamp")" == "$want" ]]; then
	log "kubectl $KUBE_VERSION ($go_version) already built in $bin_dir"
else
	rm -f "$stamp" "$bin_dir/kubectl"
	start=$SECONDS
	log "building kubectl $KUBE_VERSION with $go_version into $bin_dir (about 3 minutes on 2 cores)"
	build_kube_command kubectl "$bin_dir"
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
