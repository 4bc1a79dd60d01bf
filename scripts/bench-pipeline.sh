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
# $BENCH_BIN (default ~/.cache/aks-gitops/bench-bin), stamped by version;
# KEEP=1 keeps the work directory (outputs of every stage) for inspection;
# gator comes from TOOLS_BIN (make tools). The apiserver's /openapi/v2 is
# fetched once, from the testenv binaries (make testenv), and cached there.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

KUSTOMIZE_VERSION=v5.8.2 # on sigs.k8s.io/kustomize/api v0.21.2, like tools
HELM_VERSION=v4.2.4
KUBECONFORM_VERSION=v0.8.0
CONFTEST_VERSION=v0.71.1
KUBE_VERSION=1.36.3

cache=${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops
BENCH_BIN=${BENCH_BIN:-$cache/bench-bin}
TOOLS_BIN=${TOOLS_BIN:-$cache/bin}
TESTENV_BIN=${KUBEBUILDER_ASSETS:-${TESTENV_BIN:-$cache/testenv/v$KUBE_VERSION}}
runs=${RUNS:-3}
jobs=${JOBS:-2}
size=${SIZE:-medium}

log() { printf 'bench-pipeline: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 2
}

if ! python3 -c 'import yaml' 2>/dev/null; then
	die "python3 with PyYAML is needed to plan the pipeline (apt-get install python3-yaml)"
fi
[[ -x $TOOLS_BIN/gator ]] || die "gator not found in $TOOLS_BIN; run 'make tools'"

# install NAME MODULE@VERSION: go install into BENCH_BIN unless the stamp
# says this version is there.
install() {
	local name=$1 pkg=$2 stamp="$BENCH_BIN/.$1.version"
	if [[ -x $BENCH_BIN/$name && -f $stamp && "$(<"$stamp")" == "$pkg" ]]; then
		return
	fi
	log "building $pkg"
	mkdir -p "$BENCH_BIN"
	# Outside the repo so its go.mod plays no part; the local toolchain only.
	(cd / && GOTOOLCHAIN=local GOFLAGS=-mod=mod GOBIN=$BENCH_BIN go install "$pkg") || die "go install $pkg failed"
	printf '%s\n' "$pkg" >"$stamp"
}
install kustomize sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION
install helm helm.sh/helm/v4/cmd/helm@$HELM_VERSION
install kubeconform github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION
install conftest github.com/open-policy-agent/conftest@$CONFTEST_VERSION

work=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	if [[ -n ${KEEP:-} ]]; then
		log "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# openapi_v2 FILE: the real kube-apiserver's /openapi/v2, from an etcd and
# kube-apiserver started on free loopback ports (as tools/internal/testenv
# starts them) and stopped again.
openapi_v2() {
	local out=$1 dir="$work/apiserver"
	[[ -x $TESTENV_BIN/kube-apiserver && -x $TESTENV_BIN/etcd ]] ||
		die "kube-apiserver and etcd not found in $TESTENV_BIN; run 'make testenv'"
	mkdir -p "$dir"
	local ports etcd_port peer_port api_port token i
	ports=$(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
	read -r etcd_port peer_port api_port <<<"$ports"
	token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	printf '%s,bench,bench,"system:masters"\n' "$token" >"$dir/tokens.csv"
	openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null || die "openssl genrsa failed"
	"$TESTENV_BIN/etcd" --name=bench --data-dir="$dir/etcd" \
		--listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
		--listen-peer-urls="http://127.0.0.1:$peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
		--initial-cluster="bench=http://127.0.0.1:$peer_port" --unsafe-no-fsync --log-level=warn >"$dir/etcd.log" 2>&1 &
	pids+=($!)
	"$TESTENV_BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$etcd_port" --cert-dir="$dir/certs" \
		--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="$dir/sa.key" --service-account-signing-key-file="$dir/sa.key" \
		--token-auth-file="$dir/tokens.csv" --authorization-mode=RBAC --service-cluster-ip-range=10.0.0.0/24 \
		--endpoint-reconciler-type=none >"$dir/apiserver.log" 2>&1 &
	pids+=($!)
	for i in $(seq 120); do
		if curl -skf -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/readyz" >/dev/null 2>&1; then
			break
		fi
		[[ $i == 120 ]] && die "kube-apiserver not ready after 60s: $(tail -5 "$dir/apiserver.log")"
		sleep 0.5
	done
	curl -skf -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/openapi/v2" -o "$out.tmp" ||
		die "GET /openapi/v2 failed"
	mv "$out.tmp" "$out"
	# The apiserver first (it waits on etcd while it shuts down), then etcd.
	stop "${pids[1]}"
	stop "${pids[0]}"
	pids=()
}

# stop PID: SIGTERM, ten seconds' grace, then SIGKILL.
stop() {
	local i
	kill "$1" 2>/dev/null || return 0
	for i in $(seq 20); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.5
	done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

openapi="$BENCH_BIN/openapi-v2-v$KUBE_VERSION.json"
if [[ ! -s $openapi ]]; then
	log "fetching /openapi/v2 from kube-apiserver v$KUBE_VERSION"
	openapi_v2 "$openapi"
fi

go build -o "$work/tools" ./tools || die "go build ./tools failed"
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
	"$work/tools" synth --size "$size" "$repo" >/dev/null
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

TIMEFORMAT=%R
# best N CMD...: the smallest wall time of N runs, in seconds.
best() {
	local n=$1 b="" t i
	shift
	for i in $(seq "$n"); do
		t=$({ time "$@" >/dev/null 2>&1; } 2>&1)
		if [[ -z $b ]] || awk -v a="$t" -v b="$b" 'BEGIN { exit !(a < b) }'; then
			b=$t
		fi
	done
	printf '%s' "$b"
}

tools_flags=(--repo "$repo" --offline --charts "$charts" --cache-dir "$work/tools-cache")
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
tools_run() {
	local rc=0
	"$work/tools" "$@" "${tools_flags[@]}" "${paths[@]}" >"$work/tools.out" 2>&1 || rc=$?
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
t_tools_render=$(best "$runs" tools_run render)
t_kubeconform=$(best "$runs" kubeconform_run)
t_conftest=$(best "$runs" conftest_run)
t_gator=$(best "$runs" gator_run)
t_validate=$(best "$runs" tools_run validate)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }

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
printf '%-58s %8s\n' "  tools render alone" "$t_tools_render"
printf 'pipeline / %s: %s\n' "${ours[0]}" "$(ratio "$t_pipeline" "$t_ours")"
printf '%-58s %8s\n' "kubeconform -n 2 on the rendered files (render excluded)" "$t_kubeconform"
printf '%-58s %8s\n' "tools validate (render from its warm cache included)" "$t_validate"
printf 'kubeconform / tools validate: %s\n' "$(ratio "$t_kubeconform" "$t_validate")"
