#!/usr/bin/env bash
# Ours and the upstream peers, measured side by side in one invocation on one
# machine, printed as one Markdown table: best of RUNS (default 3) warm runs
# of each side, the ratio peer/ours (above 1: ours is faster), and the
# command that reproduces each row. The peers:
#
#   pipeline  kustomize + helm template + kubeconform + conftest + gator vs
#             tools check; kubeconform alone vs tools validate
#             (scripts/bench-pipeline.sh)
#   drift     kubectl diff --server-side vs tools diff --live's engine
#             (scripts/bench-drift.sh)
#   flux      flux build ks vs tools render; flux diff ks vs tools diff
#             --live (scripts/bench-flux.sh)
#
#   scripts/bench-side.sh                      # all of them
#   BENCH_ONLY="drift flux" scripts/bench-side.sh
#   RUNS=5 SIZE=large scripts/bench-side.sh
#   TOOLS=/tmp/tools-old scripts/bench-side.sh   # time another build (before/after)
#
# Each script's own report goes to stderr as it runs; the table, to stdout,
# comes last. A peer that fails is named under the table and the exit code
# is 1. The peers are built once from the Go module proxy into $BENCH_BIN
# (scripts/lib/bench.sh): the first run takes about 10 minutes longer.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'bench-side: %s\n' "$*" >&2; }

export RUNS=${RUNS:-3}
only=${BENCH_ONLY:-pipeline drift flux}
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
export BENCH_ROWS=$rows

# The machine, before the runs (another build on it shows in the load).
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
machine="machine: $(nproc) cores (nproc), ${cpu:-unknown CPU}; $(date -u '+%Y-%m-%d %H:%M UTC'); load average $(cut -d' ' -f1-3 /proc/loadavg) at start; $(cd / && GOTOOLCHAIN=local go env GOVERSION)"

failed=()
start=$SECONDS
for peer in $only; do
	log "$peer: scripts/bench-$peer.sh"
	t=$SECONDS
	# The scripts' reports go to stderr: stdout is the table's.
	if bash "scripts/bench-$peer.sh" >&2; then
		log "$peer: done in $((SECONDS - t))s"
	else
		rc=$?
		failed+=("$peer")
		printf 'note\t%s\n' "scripts/bench-$peer.sh failed (exit $rc): its rows are missing; its log is above." >>"$rows"
	fi
done

timed="built from this checkout"
[[ -z ${TOOLS:-} ]] || timed="the build TOOLS=$TOOLS"
# Cells hold no "|" of their own.
cell() { printf '%s' "${1//|/\\|}"; }

printf '\n%s; RUNS=%s; %ss in all\n\n' "$machine" "$RUNS" "$((SECONDS - start))"
printf '| figure | ours (s) | peer (s) | ratio (peer/ours) | command |\n'
printf '|---|--:|--:|--:|---|\n'
while IFS=$'\t' read -r kind figure ours peer command; do
	[[ $kind == row ]] || continue
	r=$(awk -v a="$peer" -v b="$ours" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }')
	printf '| %s | %s | %s | %s | %s |\n' "$(cell "$figure")" "$ours" "$peer" "$r" "$(cell "$command")"
done <"$rows"
printf '\nours: tools, %s; best of %s warm runs a side (each after a warm-up run); cold: tools with a new empty chart and render cache every run (the peers keep no cache, so their figure is the same). R: the synthetic repository (%s); K: the kubeconfig of a throwaway kube-apiserver (scripts/lib/apiserver.sh).\n' \
	"$timed" "$RUNS" "\`tools synth --size ${SIZE:-medium} R\`"
while IFS=$'\t' read -r kind text; do
	[[ $kind == note ]] && printf '\n%s\n' "$text"
done <"$rows"

((${#failed[@]} == 0)) || exit 1
