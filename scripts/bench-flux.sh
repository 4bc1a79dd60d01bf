#!/usr/bin/env bash
# Compares tools with the flux CLI on the same Kustomizations, best of RUNS
# warm runs each:
#
#   flux build ks --recursive --dry-run   vs  tools render
#   flux diff ks --recursive              vs  tools diff --live
#   flux build ks at base and head + diff vs  tools diff --base HEAD
#
# The input is the synthetic repository (tools synth --size $SIZE, default
# medium: the entry clusters/bench, 10 group and 190 app Kustomizations, 80
# HelmReleases of local charts). flux starts from the entry's sync
# Kustomization (flux-system, path ./clusters/bench, written here as
# bootstrap would) and walks every Kustomization it finds, with the
# repository as the local source of GitRepository flux-system; tools renders
# and diffs the entry itself. flux build and flux diff do not render
# HelmReleases; tools render does (600 more objects), and tools diff --live
# renders them and skips their objects (drift detection is off, the default).
#
# The diff runs against a throwaway kube-apiserver (scripts/lib/apiserver.sh,
# the testenv binaries) holding Flux's CRDs and the render applied as
# kustomize-controller would, 20 Deployments then scaled by hand: both sides
# report those 20 as drifted.
#
#   scripts/bench-flux.sh
#   RUNS=5 SIZE=large scripts/bench-flux.sh
#
# flux (github.com/fluxcd/flux2/v2 v$FLUX_VERSION) and kubectl (to apply the
# live state) are built once from the Go module proxy into $BENCH_BIN
# (scripts/lib/bench.sh); BENCH_ROWS=FILE adds the figures to
# scripts/bench-side.sh's table; KEEP=1 keeps the work directory.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

FLUX_VERSION=2.9.5
KUBE_VERSION=v1.36.3
runs=${RUNS:-3}
size=${SIZE:-medium}
drifts=20

bench_name=bench-flux
# shellcheck source=scripts/lib/bench.sh
. scripts/lib/bench.sh
# shellcheck source=scripts/lib/apiserver.sh
. scripts/lib/apiserver.sh
# The Flux controllers' modules, at the versions the e2e harness builds:
# their CRDs.
# shellcheck source=scripts/lib/harnessmod.sh
. scripts/lib/harnessmod.sh

bench_need_pyyaml

bench_flux "$FLUX_VERSION"
bench_kubectl "$KUBE_VERSION"
testenv_bin=$(scripts/testenv.sh)
flux="$BENCH_BIN/flux"

bench_workdir

bench_tools
repo="$work/repo"
"$work/tools-checkout" synth --size "$size" "$repo" >/dev/null
# flux writes a kustomization.yaml into each path without one while it
# builds (and removes it after): a copy of its own.
cp -r "$repo" "$work/flux-repo"
frepo="$work/flux-repo"
cat >"$work/flux-system.yaml" <<'EOF'
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./clusters/bench
EOF

flux_ks=(ks flux-system --path "$frepo/clusters/bench" --kustomization-file "$work/flux-system.yaml"
	--recursive --local-sources "GitRepository/flux-system/flux-system=$frepo")
tools_flags=(--repo "$repo" --offline --charts "$repo/charts")

# run NAME OK_EXIT CMD...: CMD's exit code must be 0 or OK_EXIT (1: changes
# found); its output goes to $work/NAME.out and .err.
run() {
	local name=$1 ok=$2 rc=0
	shift 2
	"$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
	((rc == 0 || rc == ok)) || die "$name failed (exit $rc): $(tail -5 "$work/$name.err")"
}
flux_build() { run flux-build 0 "$flux" build "${flux_ks[@]}" --dry-run; }
flux_diff() { run flux-diff 1 "$flux" diff "${flux_ks[@]}" --progress-bar=false --kubeconfig "$kubeconfig"; }
# tools_render|tools_diff CACHE_DIR [FLAG...]
tools_render() { run tools-render 0 "$work/tools" render "${tools_flags[@]}" --cache-dir "$@" "$repo/clusters/bench"; }
tools_diff() {
	run tools-diff 1 "$work/tools" diff --live --kubeconfig "$kubeconfig" "${tools_flags[@]}" --cache-dir "$@" "$repo/clusters/bench"
}
# A new empty cache directory a run (cold).
tools_render_cold() { tools_render "$(mktemp -d "$work/cold.XXXXXX")"; }
tools_diff_cold() { tools_diff "$(mktemp -d "$work/cold.XXXXXX")"; }
warm="$work/tools-cache"

log "input: synthetic repository ($size); flux $("$flux" version --client 2>/dev/null | sed -n 's/^flux: //p')"

# --- build --------------------------------------------------------------------
# Warm-up: OS caches, tools' chart and render cache.
flux_build
tools_render "$warm"
"$work/tools" render "${tools_flags[@]}" --cache-dir "$warm" -o "$work/per-object/" "$repo/clusters/bench" 2>/dev/null ||
	die "tools render -o failed"
flux_objects=$(grep -c '^kind:' "$work/flux-build.out" || true)
tools_objects=$(grep -c '^kind:' "$work/tools-render.out" || true)
tools_ks_objects=$(find "$work/per-object" -path '*/kustomization/*' -name '*.yaml' -exec cat {} + | grep -c '^kind:' || true)
log "flux build: $flux_objects objects; tools render: $tools_objects, $tools_ks_objects of them from Kustomizations"

t_flux_build=$(best "$runs" flux_build)
t_render=$(best "$runs" tools_render "$warm")
t_render_nocache=$(best "$runs" tools_render "$warm" --no-render-cache)
t_render_cold=$(best "$runs" tools_render_cold)

# --- diff ---------------------------------------------------------------------
log "starting kube-apiserver; applying the render"
apiserver_start "$testenv_bin" "$work/apiserver"
kubeconfig="$work/apiserver/kubeconfig"
kubectl=("$BENCH_BIN/kubectl" --kubeconfig "$kubeconfig")
# CRDs and Namespaces first, then everything, in 4 parts at once (kubectl
# applies one object at a time), as kustomize-controller would (its field
# manager); then the entry's sync Kustomization, as bootstrap would.
crd_dirs=()
for c in source-controller kustomize-controller helm-controller; do
	IFS='|' read -r _ module version _ <<<"$(harness_entry "$c")"
	dir=$(cd / && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "$module@$version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -d $dir/config/crd/bases ]] || die "no CRDs in $module@$version"
	crd_dirs+=(-f "$dir/config/crd/bases")
done
python3 - "$work/tools-render.out" "$work/apply" <<'PY' || die "splitting the render failed"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
first = [d for d in docs if d["kind"] in ("CustomResourceDefinition", "Namespace")]
first.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}})
yaml.safe_dump_all(first, open(sys.argv[2] + "-0.yaml", "w"))
for i in range(4):
    yaml.safe_dump_all(docs[i::4], open("%s-%d.yaml" % (sys.argv[2], i + 1), "w"))
PY
apply() { "${kubectl[@]}" apply --server-side --field-manager kustomize-controller --force-conflicts "$@" >/dev/null; }
apply "${crd_dirs[@]}" -f "$work/apply-0.yaml" || die "applying CRDs and namespaces failed"
"${kubectl[@]}" wait --for condition=established crd --all >/dev/null || die "CRDs not established"
printf '%s\n' 1 2 3 4 | xargs -P 4 -I{} "${kubectl[@]}" apply --server-side --field-manager kustomize-controller \
	--force-conflicts -f "$work/apply-{}.yaml" >/dev/null || die "applying the render failed"
apply -f "$work/flux-system.yaml" || die "applying the flux-system Kustomization failed"
for i in $(seq 0 $((drifts - 1))); do
	"${kubectl[@]}" -n "$(printf 'app-%03d' "$i")" scale deployment web --replicas 9 >/dev/null || die "scaling failed"
done

# Warm-up, and both must find the drift.
flux_diff
tools_diff "$warm"
flux_drifted=$(cat "$work/flux-diff.out" "$work/flux-diff.err" | grep -c 'drifted$' || true)
tools_drifted=$(grep -c '^drifted ' "$work/tools-diff.out" || true)
log "flux diff: $flux_drifted drifted; tools diff --live: $tools_drifted drifted ($(tail -1 "$work/tools-diff.out"))"
((flux_drifted == drifts && tools_drifted == drifts)) ||
	die "expected $drifts drifted objects on both sides (flux $flux_drifted, tools $tools_drifted)"

t_flux_diff=$(best "$runs" flux_diff)
t_diff=$(best "$runs" tools_diff "$warm")
t_diff_cold=$(best "$runs" tools_diff_cold)

# --- pull-request diff -----------------------------------------------------------
# A commit of the repository, then the change a pull request would make: a
# label on the base Deployment that the 190 app Kustomizations use. tools
# diff compares the working tree with HEAD; flux has no revision diff, so
# its side is flux build at both revisions and diff -u of the two.
pr="$work/pr"
fhead="$work/flux-head"
cp -r "$repo" "$pr"
cp -r "$frepo" "$fhead"
git -C "$pr" init -q -b main
git -C "$pr" add -A
git -C "$pr" -c user.name=bench -c user.email=bench@example.com commit -qm base
for r in "$pr" "$fhead"; do
	sed -i 's|^    app.kubernetes.io/name: web$|&\n    tier: frontend|' "$r/bases/web/deployment.yaml"
done
flux_head_ks=(ks flux-system --path "$fhead/clusters/bench" --kustomization-file "$work/flux-system.yaml"
	--recursive --local-sources "GitRepository/flux-system/flux-system=$fhead")
flux_pr_diff() {
	run flux-build-base 0 "$flux" build "${flux_ks[@]}" --dry-run
	run flux-build-head 0 "$flux" build "${flux_head_ks[@]}" --dry-run
	run flux-pr-diff 1 diff -u "$work/flux-build-base.out" "$work/flux-build-head.out"
}
# tools_pr_diff CACHE_DIR
tools_pr_diff() {
	run tools-pr-diff 1 env -C "$pr" "$work/tools" diff --base HEAD --repo "$pr" --offline --charts "$pr/charts" \
		--cache-dir "$1" "$pr/clusters/bench"
}
tools_pr_diff_cold() { tools_pr_diff "$(mktemp -d "$work/cold.XXXXXX")"; }
pr_cache="$work/pr-cache"
# Warm-up, and both must see the change on every app's Deployment.
flux_pr_diff
tools_pr_diff "$pr_cache"
flux_changed=$(grep -c '^+    tier: frontend$' "$work/flux-pr-diff.out" || true)
tools_changed=$(grep -c '^  + metadata.labels.tier: frontend$' "$work/tools-pr-diff.out" || true)
log "pull-request diff: flux build twice + diff -u: $flux_changed Deployments changed; tools diff: $tools_changed"
((flux_changed > 0 && flux_changed == tools_changed)) ||
	die "expected the same Deployments changed on both sides (flux $flux_changed, tools $tools_changed)"
t_flux_pr=$(best "$runs" flux_pr_diff)
t_pr=$(best "$runs" tools_pr_diff "$pr_cache")
t_pr_cold=$(best "$runs" tools_pr_diff_cold)

printf 'input: synthetic repository (%s); flux build: %s objects, tools render: %s (%s from Kustomizations); best of %s warm runs\n' \
	"$size" "$flux_objects" "$tools_objects" "$tools_ks_objects" "$runs"
printf '%-58s %8s\n' "" seconds
printf '%-58s %8s\n' "flux build ks --recursive --dry-run" "$t_flux_build"
printf '%-58s %8s\n' "tools render (warm render cache)" "$t_render"
printf '%-58s %8s\n' "tools render --no-render-cache" "$t_render_nocache"
printf '%-58s %8s\n' "tools render, empty cache (cold)" "$t_render_cold"
printf 'flux build / tools render: %s (no render cache %s, cold %s)\n' "$(ratio "$t_flux_build" "$t_render")" \
	"$(ratio "$t_flux_build" "$t_render_nocache")" "$(ratio "$t_flux_build" "$t_render_cold")"
printf '%-58s %8s\n' "flux diff ks --recursive" "$t_flux_diff"
printf '%-58s %8s\n' "tools diff --live (warm render cache)" "$t_diff"
printf '%-58s %8s\n' "tools diff --live, empty cache (cold)" "$t_diff_cold"
printf 'flux diff / tools diff --live: %s (cold %s)\n' "$(ratio "$t_flux_diff" "$t_diff")" "$(ratio "$t_flux_diff" "$t_diff_cold")"

printf '%-58s %8s\n' "flux build ks at base and head + diff -u" "$t_flux_pr"
printf '%-58s %8s\n' "tools diff --base HEAD (warm render cache)" "$t_pr"
printf '%-58s %8s\n' "tools diff --base HEAD, empty cache (cold)" "$t_pr_cold"
printf 'pull-request diff, flux / tools: %s (cold %s)\n' "$(ratio "$t_flux_pr" "$t_pr")" "$(ratio "$t_flux_pr" "$t_pr_cold")"

how="SIZE=$size scripts/bench-flux.sh"
ks="flux-system --path R/clusters/bench --kustomization-file flux-system.yaml --recursive --local-sources GitRepository/flux-system/flux-system=R"
bench_row "render: tools render vs flux build ks (warm)" "$t_render" "$t_flux_build" \
	"\`$how\`: \`tools render --offline --charts R/charts R/clusters/bench\` vs \`flux build ks $ks --dry-run\`"
bench_row "the same, tools --no-render-cache" "$t_render_nocache" "$t_flux_build" \
	"\`$how\`: the same, \`tools render --no-render-cache\`"
bench_row "the same, tools with an empty chart and render cache (cold)" "$t_render_cold" "$t_flux_build" \
	"\`$how\`: the same, \`--cache-dir\` a new empty directory"
bench_row "live diff of the entry ($drifts drifted): tools diff --live vs flux diff ks (warm)" "$t_diff" "$t_flux_diff" \
	"\`$how\`: \`tools diff --live --kubeconfig K --offline --charts R/charts R/clusters/bench\` vs \`flux diff ks $ks --kubeconfig K\`"
bench_row "the same, tools with an empty chart and render cache (cold)" "$t_diff_cold" "$t_flux_diff" \
	"\`$how\`: the same, \`--cache-dir\` a new empty directory"
bench_row "pull-request diff ($tools_changed Deployments changed): tools diff vs flux build ks at both revisions + diff -u (warm)" "$t_pr" "$t_flux_pr" \
	"\`$how\`: \`tools diff --base HEAD --offline --charts R/charts R/clusters/bench\` vs \`flux build ks\` of base and head, then \`diff -u\`"
bench_row "the same, tools with an empty chart and render cache (cold)" "$t_pr_cold" "$t_flux_pr" \
	"\`$how\`: the same, \`--cache-dir\` a new empty directory"
bench_note "flux build/diff: flux $FLUX_VERSION walks the 201 Kustomizations from the sync Kustomization and builds $flux_objects objects; tools render also renders the HelmReleases ($tools_objects objects, $tools_ks_objects from Kustomizations), which flux build does not. flux build --dry-run leaves postBuild.substituteFrom variables empty (it reads no cluster); flux diff reads them from the API server. Both diffs compare the $tools_ks_objects Kustomization-built objects by server-side dry-run and report the same $drifts drifted; tools diff --live skips the HelmReleases' objects (drift detection off)."
