#!/usr/bin/env bash
# The benchmark guard (make bench-guard, part of make test): runs
# BenchmarkGuard (tools/internal/cli/guard_bench_test.go: render of the
# synthetic repositories cold and warm, check warm, and a calibration
# workload) COUNT times and compares the results with the committed
# baseline, testdata/bench/guard.txt, with benchstat.
#
# Times are compared relative to the calibration workload of the same run
# (each ns/op divided by the calibration's median), so a baseline recorded
# on one machine judges a run on another; bytes and allocations per
# operation are compared as they are (they do not depend on the machine).
# A change counts only when benchstat finds it significant (Mann-Whitney U,
# p < 0.05: it prints "~" otherwise), and fails beyond:
#
#   time (relative)  +40%    (batches of runs on this shared 2-core VM
#   bytes/op         +15%     differed by up to 35% in relative time, and
#   allocs/op        +10%     by under 0.3% in bytes and allocations)
#
# naming each benchmark that crossed its threshold.
#
#   scripts/bench-guard.sh            # compare (exit 1 on a slowdown)
#   UPDATE=1 scripts/bench-guard.sh   # record a new baseline (on an idle machine)
#   COUNT=10 scripts/bench-guard.sh   # more samples (default 6, benchstat's minimum for confidence intervals)
#
# BASELINE=FILE and RESULTS=FILE compare two given result files instead
# (the guard's own test: tools/internal/cli/guard_script_test.go).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
TOOLS_BIN=${TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/bin}
benchstat=$TOOLS_BIN/benchstat
baseline=${BASELINE:-testdata/bench/guard.txt}
count=${COUNT:-6}
out=${OUT_DIR:-out/bench-guard}

log() { printf 'bench-guard: %s\n' "$*" >&2; }

[[ -x $benchstat ]] || {
	log "benchstat not found in $TOOLS_BIN; run 'make tools'"
	exit 2
}
mkdir -p "$out"
if [[ -n ${RESULTS:-} ]]; then
	cp "$RESULTS" "$out/new.txt"
else
	log "running BenchmarkGuard $count times (about a minute)"
	go test -run '^$' -bench '^BenchmarkGuard$' -benchmem -benchtime 3x -count "$count" ./tools/internal/cli >"$out/new.txt"
fi

if [[ ${UPDATE:-} == 1 ]]; then
	cp "$out/new.txt" "$baseline"
	log "baseline written to $baseline"
	exit 0
fi
[[ -f $baseline ]] || {
	log "no baseline at $baseline; record one with UPDATE=1"
	exit 2
}

# normalize FILE: the benchmark lines with the GOMAXPROCS suffix dropped
# (machines differ in cores) and each ns/op divided by the median ns/op of
# the calibration, times 1e9 (so benchstat's sec/op reads "calibrations").
normalize() {
	local median
	median=$(awk '$1 ~ /^BenchmarkGuard\/calibrate(-[0-9]+)?$/ && $4 == "ns/op" { print $3 }' "$1" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }') || {
		log "$1: no calibration results"
		exit 2
	}
	awk -v median="$median" '
		/^Benchmark/ {
			sub(/-[0-9]+$/, "", $1)
			if ($4 == "ns/op") $3 = sprintf("%.0f", $3 / median * 1e9)
			print
			next
		}
		/^(goos|goarch|pkg):/ { print }
	' "$1"
}
normalize "$baseline" >"$out/baseline.norm"
normalize "$out/new.txt" >"$out/new.norm"

"$benchstat" "$out/baseline.norm" "$out/new.norm" | tee "$out/benchstat.txt"
# Its stderr holds notes on sample sizes, kept apart from the CSV (and
# shown when it fails).
if ! "$benchstat" -format csv "$out/baseline.norm" "$out/new.norm" 2>"$out/benchstat.err" >"$out/benchstat.csv"; then
	cat "$out/benchstat.err" >&2
	log "benchstat failed"
	exit 2
fi

# The CSV has one table per unit: a header row naming it (",sec/op,CI,..."),
# then a row per benchmark: name, base, CI, new, CI, change ("~" or
# "+12.34%"), p.
failed=$(awk -F, '
	$1 == "" && $2 != "" { unit = $2; next }
	$1 == "" || $1 == "geomean" { next }
	{
		limit = (unit == "sec/op") ? 40 : (unit == "B/op") ? 15 : (unit == "allocs/op") ? 10 : -1
		change = $6
		if (limit < 0 || change !~ /^\+/) next
		sub(/^\+/, "", change); sub(/%$/, "", change)
		if (change + 0 > limit) printf "%s: %s +%s%% (limit +%d%%, %s)\n", $1, (unit == "sec/op" ? "time" : unit), change, limit, $7
	}
' "$out/benchstat.csv")
if [[ -n $failed ]]; then
	log "slower than the baseline ($baseline):"
	printf '  %s\n' "$failed" >&2
	log "if the slowdown is intended, record a new baseline on an idle machine: UPDATE=1 make bench-guard"
	exit 1
fi
log "no benchmark beyond its limit (time +40% relative to the calibration, B/op +15%, allocs/op +10%)"
