#!/usr/bin/env bash
# Compares `tools check` with the pipeline people assemble from the upstream
# CLIs, on the same repository, best of RUNS warm runs each:
#
#   kustomize build    one per Flux Kustomization (the entry and every one found)
#   helm template      one per HelmRelease, with its spec.values, CRDs included
#                      and test hooks skipped (as helm-controller installs it)
#   kubeconform -n 2   over all output, offline, against JSON schemas generated
#                      from the real kube-apiserver's /openapi/v2 (and the CRDs
#                      in the output)
#   conftest test      --policy policies/repo over all output
#   gator test         over all output (its ConstraintTemplates and constraints)
#
# and, as a second figure, kubeconform alone on the rendered files against
# `tools validate` on the repository.
#
#   scripts/bench-pipeline.sh              synthetic repository (tools synth --size $SIZE, default medium)
#   CHARTS=DIR scripts/bench-pipeline.sh   this repository's clusters, charts from DIR (offline)
#
# The pipeline's plan (which Kustomizations and HelmReleases exist, their
# paths, charts and values) is discovered once before timing, which favours
# the pipeline: a real one discovers nested Kustomizations as it builds. It
# does what plain kustomize and helm do and no more: no postBuild
# substitution, no Flux-side patches or targetNamespace, no valuesFrom.
#
# The upstream CLIs are built once from the Go module proxy into
# $BENCH_BIN (default ~/.cache/aks-gitops/bench-bin), stamped by version
# and Go toolchain (scripts/lib/bench.sh); tools check is timed warm (its
# render cache from the run before) and cold (an empty cache each run);
# BENCH_ROWS=FILE adds the figures to scripts/bench-side.sh's table;
# KEEP=1 keeps the work directory (outputs of every stage) for inspection;
# gator comes from TOOLS_BIN (make tools). The apiserver's /openapi/v2 is
# fetched once, from the testenv binaries (make testenv, started by
# scripts/lib/apiserver.sh), and cached there.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

KUSTOMIZE_VERSION=v5.8.2 # on sigs.k8s.io/kustomize/api v0.21.2, like tools
HELM_VERSION=v4.2.4
KUBECONFORM_VERSION=v0.8.0
CONFTEST_VERSION=v0.71.1
KUBE_VERSION=1.36.3

cache=${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops
TOOLS_BIN=${TOOLS_BIN:-$cache/bin}
TESTENV_BIN=${KUBEBUILDER_ASSETS:-${TESTENV_BIN:-$cache/testenv/v$KUBE_VERSION}}
runs=${RUNS:-3}
jobs=${JOBS:-2}
size=${SIZE:-medium}

bench_name=bench-pipeline
# shellcheck source=scripts/lib/bench.sh
. scripts/lib/bench.sh
# shellcheck source=scripts/lib/apiserver.sh
. scripts/lib/apiserver.sh

bench_need_pyyaml
[[ -x $TOOLS_BIN/gator ]] || die "gator not found in $TOOLS_BIN; run 'make tools'"

bench_install kustomize sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION
bench_install helm helm.sh/helm/v4/cmd/helm@$HELM_VERSION
bench_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION
bench_install conftest github.com/open-policy-agent/conftest@$CONFTEST_VERSION

bench_workdir

# The real kube-apiserver's /openapi/v2, fetched once and cached.
openapi="$BENCH_BIN/openapi-v2-v$KUBE_VERSION.json"
if [[ ! -s $openapi ]]; then
	log "fetching /openapi/v2 from kube-apiserver v$KUBE_VERSION"
	apiserver_start "$TESTENV_BIN" "$work/apiserver"
	curl -skf -H "Authorization: Bearer $apiserver_token" "$apiserver_url/openapi/v2" -o "$openapi.tmp" ||
		die "GET /openapi/v2 failed"
	mv "$openapi.tmp" "$openapi"
	apiserver_stop
fi

bench_tools
go build -o "$work/kubeschema" ./tools/kubeschema || die "go build kubeschema failed"

# The input: one repository for tools (as is) and a copy for the pipeline,
# where kustomization.yaml files are generated for paths without one (as
# kustomize-controller does in its own checkout).
if [[ -n ${CHARTS:-} ]]; then
	charts=$(cd "$CHARTS" && pwd)
	repo="$work/repo"
	mkdir -p "$repo"
	cp -r clusters infrastructure apps policies "$repo/"
	entries=()
	for e in "$repo"/clusters/*/; do
		e=${e%/}
		entries+=("clusters/${e##*/}")
	done
	input="this repository (${entries[*]}), charts from $CHARTS"
else
	repo="$work/repo"
	"$work/tools-checkout" synth --size "$size" "$repo" >/dev/null
	charts="$repo/charts"
	entries=(clusters/bench)
	input="synthetic repository ($size)"
fi
cp -r "$repo" "$work/pipeline-repo"
out="$work/out"
mkdir -p "$out" "$work/values"

# Plan: discover every Flux Kustomization (building each once) and every
# HelmRelease, and write one command per build to $work/commands.
python3 - "$work/pipeline-repo" "$charts" "$BENCH_BIN" "$out" "$work/values" "$KUBE_VERSION" "${entries[@]}" >"$work/commands" <<'PY' || die "planning the pipeline failed"
import os, shlex, subprocess, sys
import yaml

repo, charts, binr, out, valdir, kube = sys.argv[1:7]
entries = sys.argv[7:]
kustomize, helm = os.path.join(binr, "kustomize"), os.path.join(binr, "helm")

def ensure_kustomization(path):
    d = os.path.join(repo, path)
    if any(os.path.exists(os.path.join(d, f)) for f in ("kustomization.yaml", "kustomization.yml", "Kustomization")):
        return
    files = []
    for base, _, names in os.walk(d):
        for n in sorted(names):
            if n.endswith((".yaml", ".yml")):
                files.append(os.path.relpath(os.path.join(base, n), d))
    with open(os.path.join(d, "kustomization.yaml"), "w") as f:
        yaml.safe_dump({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": sorted(files)}, f)

def version_key(v):
    parts = []
    for p in v.lstrip("v").split("-")[0].split("."):
        parts.append(int(p) if p.isdigit() else 0)
    return parts

local = {}
for base, dirs, names in os.walk(charts):
    if "Chart.yaml" in names:
        with open(os.path.join(base, "Chart.yaml")) as f:
            md = yaml.safe_load(f)
        local.setdefault(md["name"], []).append((str(md["version"]), base))
        dirs[:] = []  # sub-charts belong to their parent

def chart_dir(name, version):
    cands = local.get(name)
    if not cands:
        sys.exit("no local chart %s in %s" % (name, charts))
    for v, d in cands:
        if v == version or v.lstrip("v") == str(version).lstrip("v"):
            return d
    return max(cands, key=lambda c: version_key(c[0]))[1]

seen, queue, cmds, n = set(), [(p, "") for p in entries], [], 0
while queue:
    path, target_ns = queue.pop(0)
    path = os.path.normpath(path.lstrip("./") or ".")
    if path in seen:
        continue
    seen.add(path)
    ensure_kustomization(path)
    dst = os.path.join(out, "ks-%04d.yaml" % len(seen))
    cmds.append("%s build %s > %s" % (kustomize, shlex.quote(os.path.join(repo, path)), dst))
    built = subprocess.run([kustomize, "build", os.path.join(repo, path)], capture_output=True, text=True)
    if built.returncode != 0:
        sys.exit("kustomize build %s: %s" % (path, built.stderr.strip()))
    for doc in yaml.safe_load_all(built.stdout):
        if not isinstance(doc, dict):
            continue
        group = str(doc.get("apiVersion", "")).split("/")[0]
        spec = doc.get("spec") or {}
        if doc.get("kind") == "Kustomization" and group == "kustomize.toolkit.fluxcd.io":
            queue.append((spec.get("path", "."), spec.get("targetNamespace", "")))
        elif doc.get("kind") == "HelmRelease" and group == "helm.toolkit.fluxcd.io":
            if spec.get("suspend"):
                continue
            md = doc.get("metadata") or {}
            ns = md.get("namespace") or target_ns or "default"
            chart = (spec.get("chart") or {}).get("spec") or {}
            n += 1
            values = os.path.join(valdir, "hr-%04d.yaml" % n)
            with open(values, "w") as f:
                yaml.safe_dump(spec.get("values") or {}, f)
            release = spec.get("releaseName") or md["name"]
            d = chart_dir(chart.get("chart"), chart.get("version", ""))
            cmds.append("%s template %s %s -n %s -f %s --kube-version %s --include-crds --skip-tests > %s" % (
                helm, shlex.quote(release), shlex.quote(d), shlex.quote(ns), values, kube,
                os.path.join(out, "hr-%04d.yaml" % n)))
print("\n".join(cmds))
print("planned %d kustomize builds, %d helm templates" % (len(seen), n), file=sys.stderr)
PY

# pipeline_render: every kustomize build and helm template, JOBS at a time.
pipeline_render() {
	rm -f "$out"/*.yaml
	xargs -P "$jobs" -d '\n' -I{} bash -c '{}' <"$work/commands" || die "a kustomize build or helm template failed"
}

# Schemas for kubeconform: the apiserver's built-in kinds plus the CRDs of
# the rendered output, in kubeconform's layout (untimed, like downloading a
# schema catalogue).
pipeline_render
schemas="$work/schemas"
crd_args=()
for f in "$out"/*.yaml; do
	crd_args+=(-crds "$f")
done
"$work/kubeschema" -openapi "$openapi" -out "$schemas/v$KUBE_VERSION-standalone" "${crd_args[@]}" ||
	die "schema generation failed"

kubeconform_run() {
	"$BENCH_BIN/kubeconform" -n 2 -summary -ignore-missing-schemas \
		-schema-location "$schemas" -kubernetes-version "$KUBE_VERSION" "$out"
}
conftest_run() { "$BENCH_BIN/conftest" test --no-color --policy "$root/policies/repo" "$out"; }
gator_run() { "$TOOLS_BIN/gator" test -f "$out"; }

# stage NAME CMD...: run a pipeline stage; findings (exit 1) are results,
# anything else an error.
stage() {
	local name=$1 rc=0
	shift
	"$@" >"$work/$name.out" 2>&1 || rc=$?
	if ((rc > 1)); then
		die "$name failed (exit $rc): $(tail -5 "$work/$name.out")"
	fi
	printf '%s' "$rc" >"$work/$name.rc"
}

pipeline() {
	pipeline_render
	stage kubeconform kubeconform_run
	stage conftest conftest_run
	# gator exits 1 on deny violations and on errors alike.
	stage gator gator_run
}

tools_flags=(--repo "$repo" --offline --charts "$charts")
paths=()
for e in "${entries[@]}"; do
	paths+=("$repo/$e")
done

# What tools check is measured as: the verb when it exists, else tools
# validate (render + validate in one process) and tools render.
if "$work/tools" check --help >/dev/null 2>&1; then
	ours=(check)
	ours_label="tools check"
else
	ours=(validate)
	ours_label="tools validate (tools check is not on main yet)"
fi
# tools_run VERB...: with the cache of the runs before (warm).
tools_run() {
	tools_in "$work/tools-cache" "$@"
}
# tools_cold VERB...: with an empty chart and render cache.
tools_cold() {
	tools_in "$(mktemp -d "$work/cold.XXXXXX")" "$@"
}
tools_in() {
	local cache=$1 rc=0
	shift
	"$work/tools" "$@" "${tools_flags[@]}" --cache-dir "$cache" "${paths[@]}" >"$work/tools.out" 2>&1 || rc=$?
	((rc <= 1)) || die "tools $1 failed (exit $rc): $(tail -5 "$work/tools.out")"
}

log "input: $input"
# Warm-up: OS caches, tools' render cache.
pipeline
tools_run "${ours[@]}"
tools_run render

t_pipeline=$(best "$runs" pipeline)
t_render=$(best "$runs" pipeline_render)
t_ours=$(best "$runs" tools_run "${ours[@]}")
t_ours_cold=$(best "$runs" tools_cold "${ours[@]}")
t_tools_render=$(best "$runs" tools_run render)
t_kubeconform=$(best "$runs" kubeconform_run)
t_conftest=$(best "$runs" conftest_run)
t_gator=$(best "$runs" gator_run)
t_validate=$(best "$runs" tools_run validate)
# What tools validate does, done by the pipeline: its render, then kubeconform.
t_render_kubeconform=$(awk -v a="$t_render" -v b="$t_kubeconform" 'BEGIN { printf "%.3f", a + b }')

files=$(find "$out" -name '*.yaml' | wc -l)
objects=$(cat "$out"/*.yaml | grep -c '^kind:' || true)
printf 'input: %s; pipeline output: %s files, %s objects; best of %s warm runs, %s jobs\n' "$input" "$files" "$objects" "$runs" "$jobs"
printf 'kubeconform (exit %s): %s\n' "$(<"$work/kubeconform.rc")" "$(grep '^Summary:' "$work/kubeconform.out" || tail -1 "$work/kubeconform.out")"
printf 'conftest (exit %s): %s\n' "$(<"$work/conftest.rc")" "$(grep -E '^[0-9]+ tests?,' "$work/conftest.out" || tail -1 "$work/conftest.out")"
printf 'gator (exit %s): %s violations\n' "$(<"$work/gator.rc")" "$(grep -vc -e 'WARNING - ' -e '^$' "$work/gator.out" || true)"
printf '%-58s %8s\n' "" seconds
printf '%-58s %8s\n' "upstream pipeline (kustomize+helm, kubeconform, conftest, gator)" "$t_pipeline"
printf '%-58s %8s\n' "  of which kustomize build + helm template" "$t_render"
printf '%-58s %8s\n' "  of which kubeconform / conftest / gator" "$t_kubeconform / $t_conftest / $t_gator"
printf '%-58s %8s\n' "$ours_label" "$t_ours"
printf '%-58s %8s\n' "$ours_label, empty cache (cold)" "$t_ours_cold"
printf '%-58s %8s\n' "  tools render alone" "$t_tools_render"
printf 'pipeline / %s: %s\n' "${ours[0]}" "$(ratio "$t_pipeline" "$t_ours")"
printf '%-58s %8s\n' "kubeconform -n 2 on the rendered files (render excluded)" "$t_kubeconform"
printf '%-58s %8s\n' "tools validate (render from its warm cache included)" "$t_validate"
printf 'kubeconform / tools validate: %s\n' "$(ratio "$t_kubeconform" "$t_validate")"
printf '(kustomize build + helm template + kubeconform) / tools validate: %s\n' "$(ratio "$t_render_kubeconform" "$t_validate")"

# The rows of scripts/bench-side.sh's table.
if [[ -n ${CHARTS:-} ]]; then
	how="CHARTS=$CHARTS scripts/bench-pipeline.sh"
	what="\`tools ${ours[0]} --offline --charts \$CHARTS ${entries[*]}\`"
else
	how="SIZE=$size scripts/bench-pipeline.sh"
	what="\`tools ${ours[0]} --offline --charts R/charts R/clusters/bench\`"
fi
bench_row "render + validate + policy: $ours_label vs kustomize + helm template + kubeconform + conftest + gator (warm)" \
	"$t_ours" "$t_pipeline" "\`$how\`: $what vs $(wc -l <"$work/commands") kustomize builds and helm templates ($jobs at a time), \`kubeconform -n 2\`, \`conftest test\`, \`gator test\`"
bench_row "the same, tools with an empty chart and render cache (cold)" \
	"$t_ours_cold" "$t_pipeline" "\`$how\`: the same, \`--cache-dir\` a new empty directory"
bench_row "render + validate: tools validate vs kustomize + helm template + kubeconform (warm)" \
	"$t_validate" "$t_render_kubeconform" "\`$how\`: \`tools validate\` (renders from its warm cache) vs the pipeline's kustomize builds and helm templates, then \`kubeconform -n 2 -ignore-missing-schemas\`"
bench_row "validate: tools validate vs kubeconform alone (warm)" \
	"$t_validate" "$t_kubeconform" "\`$how\`: \`tools validate\` (renders from its warm cache) vs \`kubeconform -n 2 -ignore-missing-schemas\` on the pipeline's rendered files (render excluded)"
bench_note "render + validate + policy: input $input, $objects objects rendered; the pipeline's plan (which Kustomizations and HelmReleases, their values) is made before timing, and it does no Flux-side processing (postBuild, targetNamespace, patches)."
