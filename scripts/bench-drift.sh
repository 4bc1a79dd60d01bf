#!/usr/bin/env bash
# Times the live diff (`tools diff --live`'s engine, tools/internal/drift) of
# 2,000 objects - ConfigMaps, Deployments and Services across 20 namespaces,
# applied first as kustomize-controller would, 20 of them then edited by
# hand - against a local kube-apiserver, side by side with
# `kubectl diff --server-side` on the same objects and the same server;
# best of RUNS, each run a fresh API server and a first diff (as a CLI
# invocation is).
#
#   scripts/bench-drift.sh            # 3 runs of each
#   RUNS=5 scripts/bench-drift.sh     # (BENCH_RUNS too)
#   BENCH_OBJECTS=5000 scripts/bench-drift.sh
#
# The API server is the one the tests use (scripts/testenv.sh builds it
# once). kubectl is built from the Go module proxy (k8s.io/kubernetes
# cmd/kubectl, the version of the test API server) into
# ${BENCH_BIN:-~/.cache/aks-gitops/bench-bin} once, like scripts/testenv.sh
# builds kube-apiserver (about 3 minutes on 2 cores). BENCH_ROWS=FILE adds
# the figure to scripts/bench-side.sh's table.
set -euo pipefail

KUBE_VERSION=v1.36.3

root=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-${RUNS:-3}}
objects=${BENCH_OBJECTS:-2000}

bench_name=bench-drift
# shellcheck source=scripts/lib/bench.sh
. "$root/scripts/lib/bench.sh"

bench_kubectl "$KUBE_VERSION"
"$root/scripts/testenv.sh" >/dev/null

cd "$root"
log "live diff of $objects objects, best of $runs runs each (BenchmarkLiveDiff in tools/internal/drift)"
# One iteration a benchmark run, RUNS runs: -count starts the benchmark (and
# its API server) afresh each time; the best of each side is kept. The
# output is shown as it comes (tee -a: when stderr is a file, a plain tee
# would truncate it).
result=$(BENCH_KUBECTL="$BENCH_BIN/kubectl" BENCH_OBJECTS=$objects \
	go test -run '^$' -bench '^BenchmarkLiveDiff$' -benchtime 1x -count "$runs" -timeout 30m ./tools/internal/drift/ |
	tee -a /dev/stderr |
	awk '/^BenchmarkLiveDiff/ {
		for (i = 1; i <= NF; i++) {
			if ($(i+1) == "ns/op" && (ours == "" || $i / 1e9 < ours)) ours = $i / 1e9
			if ($(i+1) == "kubectl-s/op" && (kubectl == "" || $i < kubectl)) kubectl = $i
		}
	}
	END {
		if (ours == "" || kubectl == "") { print "bench-drift: no result" > "/dev/stderr"; exit 1 }
		printf "%.2f %.2f\n", ours, kubectl
	}') || die "BenchmarkLiveDiff failed"
read -r ours kubectl <<<"$result"
printf 'live diff: %s s   kubectl diff --server-side: %s s   ratio: %s\n' "$ours" "$kubectl" "$(ratio "$kubectl" "$ours")"

bench_row "live diff of $objects objects (20 drifted): tools diff --live engine vs kubectl diff --server-side" \
	"$ours" "$kubectl" "\`scripts/bench-drift.sh\` (\`go test -run '^\$' -bench '^BenchmarkLiveDiff\$' -benchtime 1x -count $runs ./tools/internal/drift/\` with BENCH_KUBECTL): drift.Check in process vs \`kubectl diff --server-side --field-manager kustomize-controller --force-conflicts -f objects.yaml\`"
