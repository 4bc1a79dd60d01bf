#!/usr/bin/env bash
# Render benchmarks with a built binary: for each synthetic repository size,
# a cold render (empty chart and render caches) and a warm one (the caches
# of a previous run), best of RUNS. Prints one line per size.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/tools" ./tools
TIMEFORMAT=%R

# seconds REPO CACHE: wall time of one render, in seconds.
seconds() {
	local repo=$1 cache=$2
	{ time "$work/tools" render --repo "$repo" --offline --charts "$repo/charts" \
		--cache-dir "$cache" "$repo/clusters/bench" >/dev/null 2>&1; } 2>&1
}

# min A B: the smaller of two decimal numbers ("" counts as infinity).
min() {
	if [[ -z "$2" ]] || awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; then
		printf '%s' "$1"
	else
		printf '%s' "$2"
	fi
}

printf '%-7s %15s %13s %8s %8s\n' size kustomizations helmreleases cold_s warm_s
for size in small medium large; do
	repo="$work/$size"
	"$work/tools" synth --size "$size" "$repo" >/dev/null
	cold="" warm=""
	for i in $(seq "$runs"); do
		cold=$(min "$(seconds "$repo" "$work/cold-$size-$i")" "$cold")
	done
	for _ in $(seq "$runs"); do
		warm=$(min "$(seconds "$repo" "$work/cold-$size-1")" "$warm")
	done
	ks=$(grep -c '^kind: Kustomization' "$repo"/groups/*/apps.yaml "$repo/clusters/bench/groups.yaml" | awk -F: '{ n += $2 } END { print n }')
	hr=$(grep -rc '^kind: HelmRelease' "$repo/apps" | awk -F: '{ n += $2 } END { print n }')
	printf '%-7s %15s %13s %8s %8s\n' "$size" "$ks" "$hr" "$cold" "$warm"
done
