#!/usr/bin/env bash
# Checks rendered manifests against our Gatekeeper constraints with
# Gatekeeper's own engine (gator): any violation, whatever the constraint's
# enforcement action (warn in staging, deny in production), fails the check.
# The constraints' exemptions are the only way past it.
#
#   scripts/policy-check.sh [ENV...]   (default: staging production)
#
# By default it renders, offline, what the policy-templates, policy-constraints
# and apps Flux Kustomizations of each environment apply (the layout of
# clusters/<env>, with that cluster's cluster-vars), from a scratch copy of
# apps/ and policies/. With FULL=1 it renders the whole clusters/<env> entry
# instead, HelmReleases included (charts from the network or RENDER_FLAGS,
# e.g. RENDER_FLAGS='--charts DIR').
#
# Exit codes: 0 no violation, 1 violations, 2 could not check.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD

PATH="${TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/bin}:$PATH"
command -v gator >/dev/null || { echo "policy-check: gator not found; run 'make tools'" >&2; exit 2; }

envs=("$@")
if [[ ${#envs[@]} -eq 0 ]]; then
	envs=(staging production)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/tools" ./tools || exit 2

# write_entry ENV DIR: the three Flux Kustomizations this check needs, as the
# cluster entry declares them (same names, paths and substitution).
write_entry() {
	local env=$1 dir=$2
	mkdir -p "$dir"
	cp "clusters/$env/cluster-vars.yaml" "$dir/"
	cat >"$dir/flux.yaml" <<YAML
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: policy-templates
  namespace: flux-system
spec:
  interval: 1h
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./policies/templates
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: policy-constraints
  namespace: flux-system
spec:
  dependsOn:
    - name: policy-templates
  interval: 1h
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./policies/constraints/$env
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  dependsOn:
    - name: policy-constraints
  interval: 10m
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ./apps/$env
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
YAML
}

status=0
for env in "${envs[@]}"; do
	out="$work/$env.yaml"
	if [[ ${FULL:-0} == 1 ]]; then
		# shellcheck disable=SC2086 # RENDER_FLAGS is a list of flags
		"$work/tools" render "clusters/$env" -o "$out" ${RENDER_FLAGS:-} || exit 2
	else
		scratch="$work/repo-$env"
		mkdir -p "$scratch"
		cp -r apps policies "$scratch/"
		write_entry "$env" "$scratch/entry"
		"$work/tools" render "$scratch/entry" --repo "$scratch" --offline -o "$out" || exit 2
	fi
	# gator exits 1 for deny violations (and errors) and 0 for warn ones;
	# either way it prints each violation on stdout.
	rc=0
	findings=$(cd "$repo" && gator test -f "$out") || rc=$?
	if [[ $rc -ne 0 && -z $findings ]]; then
		echo "policy-check: $env: gator failed (exit $rc)" >&2
		exit 2
	fi
	if [[ -n $findings ]]; then
		printf 'policy-check: %s: violations:\n%s\n' "$env" "$findings" >&2
		status=1
	else
		echo "policy-check: $env: no violations"
	fi
done
exit "$status"
