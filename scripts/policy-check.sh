#!/usr/bin/env bash
# Runs `tools check` on rendered manifests of this repository: strict schema
# validation and the other validate checks, our Gatekeeper constraints with
# Gatekeeper's own engine (as the admission webhook runs it) and the
# repository rules. Any violation, whatever the constraint's enforcement
# action (warn in staging, deny in production), fails the check (--fail-on
# dryrun). The constraints' exemptions are the only way past it.
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
  timeout: 5m
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
  timeout: 5m
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
  timeout: 5m
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

# The CRDs of these kinds come with the charts, which the layers do not render
# (FULL=1 renders them).
SKIP_KINDS=()
if [[ ${FULL:-0} != 1 ]]; then
	for k in templates.gatekeeper.sh/ConstraintTemplate gateway.networking.k8s.io/HTTPRoute external-secrets.io/ExternalSecret; do
		SKIP_KINDS+=(--skip-kind "$k")
	done
fi

status=0
for env in "${envs[@]}"; do
	if [[ ${FULL:-0} == 1 ]]; then
		# RENDER_FLAGS is a list of flags, split on spaces.
		read -ra args <<<"${RENDER_FLAGS:-}"
		args=("clusters/$env" "${args[@]}")
	else
		scratch="$work/repo-$env"
		mkdir -p "$scratch"
		cp -r apps policies "$scratch/"
		write_entry "$env" "$scratch/entry"
		args=("$scratch/entry" --repo "$scratch" --offline)
	fi
	# tools check: 0 no failing finding, 1 findings (each printed with its
	# object and file), 2 could not render or evaluate.
	rc=0
	"$work/tools" check --fail-on dryrun "${SKIP_KINDS[@]}" "${args[@]}" || rc=$?
	case $rc in
	0) echo "policy-check: $env: no findings" ;;
	1)
		echo "policy-check: $env: findings (above)" >&2
		status=1
		;;
	*)
		echo "policy-check: $env: could not check (exit $rc)" >&2
		exit 2
		;;
	esac
done
exit "$status"
