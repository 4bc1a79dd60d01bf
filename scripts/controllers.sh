#!/usr/bin/env bash
# Builds the controllers that the control-plane e2e harness (issue 14) runs
# as processes against the test kube-apiserver, and prints the directory
# holding them.
#
#   scripts/controllers.sh                      # every default controller
#   scripts/controllers.sh gatekeeper envoy-gateway
#   scripts/controllers.sh --list               # name, module, version, package
#
#   CONTROLLERS_BIN  where to build them (default:
#                    $XDG_CACHE_HOME/aks-gitops/controllers, falling back to
#                    ~/.cache/aks-gitops/controllers)
#
# Layout: one flat directory, a binary per controller named as in the table
# below (CONTROLLERS_BIN/source-controller, .../gatekeeper, ...), each with
# its own stamp file CONTROLLERS_BIN/.<name>.stamp recording the module,
# version, package, link flags and Go toolchain it was built from. When a
# stamp matches, that binary is not rebuilt; bumping one version rebuilds
# only that one. Charts of ours that a served module holds without a
# controller to build (cert-manager's) are copied the same way, stamped
# CONTROLLERS_BIN/.chart-<name>.stamp.
#
# The default controllers are built in the one module every harness binary
# shares (scripts/lib/harnessmod.sh: their versions, substitutions and why
# one module); the optional ones, each in a throwaway module of its own that
# requires the controller's module and repeats its replace directives (the
# same rules), with exactly the dependency versions upstream builds with.
#
# Versions are the ones infrastructure/ pins (the charts' app versions); each
# is served by the module proxy and its go directive is within Go 1.26.
# Builds run one after another (2 cores); progress goes to stderr, the
# directory to stdout.
set -euo pipefail

log() { printf 'controllers: %s\n' "$*" >&2; }

# The default controllers (rows of harness_binaries in
# scripts/lib/harnessmod.sh), each with the chart directory of its module
# copied to CONTROLLERS_BIN/charts/ (the chart our HelmRelease installs, at
# the same version: the harness renders the release from it, so the webhook
# configuration, flags and CRDs it runs with are the ones our values
# produce).
controllers=(
	"source-controller|"
	"kustomize-controller|"
	"helm-controller|"
	"gatekeeper|charts/gatekeeper"
	# In the module the chart is the release template (values.tmpl.yaml,
	# version v0.0.0-latest), made into the published chart by
	# package_chart below.
	"envoy-gateway|charts/gateway-helm"
	"eck-operator|deploy/eck-operator"
	# No chart in its module (kube-prometheus-stack is in none): its CRDs,
	# the ones kube-prometheus-stack 88.5.3 installs (the same operator
	# release), copied as charts/prometheus-operator-crd.
	"prometheus-operator|example/prometheus-operator-crd"
)
# Charts alone, no binary: releases of ours whose chart is in a served
# module, for the harness to render and install as the cluster would
# (name | module | version | chart directory). The version is the one the
# HelmRelease pins.
charts=(
	# Chart cert-manager v1.21.1 (infrastructure/controllers/base/cert-manager).
	"cert-manager|github.com/cert-manager/cert-manager|v1.21.1|deploy/charts/cert-manager"
)
# Built only when named, each in a module of its own (name | module |
# version | package | link flags | substitutions, as harness_binaries).
# The module proxy serves notification-controller at v1.9.0 only (it
# refuses the version list).
optional=(
	"notification-controller|github.com/fluxcd/notification-controller|v1.9.0|.||"
)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/harnessmod.sh
. "$root/scripts/lib/harnessmod.sh"

if [[ ${1:-} == --list ]]; then
	for entry in "${controllers[@]}" "${optional[@]}"; do
		# A default controller's row is in the shared module's table.
		[[ $entry == *'|'*'|'* ]] || entry=$(harness_entry "${entry%%|*}")
		IFS='|' read -r name module version pkg _ _ _ <<<"$entry"
		printf '%s\t%s\t%s\t%s\n' "$name" "$module" "$version" "$pkg"
	done
	for entry in "${charts[@]}"; do
		IFS='|' read -r name module version chart <<<"$entry"
		printf '%s\t%s\t%s\t%s (chart only)\n' "$name" "$module" "$version" "$chart"
	done
	exit 0
fi

# Which entries to build: all defaults, or the names given.
selected=()
selected_charts=()
if (($# == 0)); then
	selected=("${controllers[@]}")
	selected_charts=("${charts[@]}")
else
	for want_name in "$@"; do
		found=
		for entry in "${controllers[@]}" "${optional[@]}"; do
			if [[ ${entry%%|*} == "$want_name" ]]; then
				selected+=("$entry")
				found=1
			fi
		done
		for entry in "${charts[@]}"; do
			if [[ ${entry%%|*} == "$want_name" ]]; then
				selected_charts+=("$entry")
				found=1
			fi
		done
		if [[ -z $found ]]; then
			log "unknown controller $want_name (scripts/controllers.sh --list names them)"
			exit 2
		fi
	done
fi

bin_dir=${CONTROLLERS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/controllers}
go_version=$(cd / && GOTOOLCHAIN=local go env GOVERSION)
mkdir -p "$bin_dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# package_chart NAME DIR VERSION turns the chart copy DIR into the chart
# the project publishes at VERSION, where the module holds a template of it.
# Envoy Gateway's release packages charts/gateway-helm with the version and
# app version of the tag and a values.yaml made from values.tmpl.yaml with
# the gateway image of that tag (the published chart's
# global.images.envoyGateway: docker.io/envoyproxy/gateway:VERSION,
# IfNotPresent).
package_chart() {
	local name=$1 dir=$2 version=$3
	case $name in
	envoy-gateway)
		sed -e "s|\${GatewayImage}|docker.io/envoyproxy/gateway:$version|" \
			-e "s|\${GatewayImagePullPolicy}|IfNotPresent|" \
			"$dir/values.tmpl.yaml" >"$dir/values.yaml"
		rm "$dir/values.tmpl.yaml"
		sed -i -e "s/^version: .*/version: $version/" \
			-e "s/^appVersion: .*/appVersion: \"$version\"/" "$dir/Chart.yaml"
		if grep -qF "\${" "$dir/values.yaml"; then
			log "$dir/values.yaml: a placeholder of the release template is left"
			return 1
		fi
		;;
	cert-manager)
		# Its release (make/manifests.mk) packages the templates, values
		# and schema with version and app version set to the tag (the
		# images default to the app version); the chart's tests and
		# lint exceptions stay behind.
		rm -rf "$dir/tests" "$dir/values.linter.exceptions" "$dir/signkey_annotation.txt" "$dir/README.template.md"
		sed -i -e "s/^version: .*/version: $version/" -e "s/^appVersion: .*/appVersion: $version/" "$dir/Chart.yaml"
		;;
	esac
}

# copy_chart NAME MODULE VERSION CHART copies the CHART directory of
# MODULE@VERSION to bin_dir/charts/ as the project publishes it.
copy_chart() {
	local name=$1 module=$2 version=$3 chart=$4 dir
	dir=$(module_download "$work" "$module@$version" Dir) || return 1
	rm -rf "${bin_dir:?}/charts/${chart##*/}"
	mkdir -p "$bin_dir/charts"
	cp -r "$dir/$chart" "$bin_dir/charts/"
	# The module cache is read-only; the copy need not be.
	chmod -R u+w "$bin_dir/charts/${chart##*/}"
	package_chart "$name" "$bin_dir/charts/${chart##*/}" "$version"
}

# build_own NAME MODULE VERSION PACKAGE LDFLAGS SUBSTITUTIONS builds
# MODULE/PACKAGE at VERSION into bin_dir/NAME in a module of its own.
build_own() {
	local name=$1 module=$2 version=$3 pkg=$4 ldflags=$5 subs=$6
	local mod="$work/$name" import=$module gomod
	[[ $pkg == . ]] || import="$module/$pkg"
	mkdir -p "$mod"
	gomod=$(module_download "$mod" "$module@$version" GoMod) || return 1
	printf 'module controllersbuild/%s\n\ngo 1.26.0\n\nrequire %s %s\n' "$name" "$module" "$version" >"$mod/go.mod"
	local edits=()
	mapfile -t edits < <(module_replaces "$gomod" "$version" "$subs")
	((${#edits[@]} == 0)) || (cd "$mod" && gobuild go mod edit "${edits[@]}")
	# go build -mod=mod resolves only what this one command needs (go mod
	# tidy would also chase the test dependencies of every imported
	# package, several of them not served) and records their checksums.
	(cd "$mod" &&
		CGO_ENABLED=0 gobuild go build -ldflags "-s -w $ldflags" -o "$bin_dir/$name" "$import")
}

for entry in "${selected[@]}"; do
	name=${entry%%|*}
	stamp="$bin_dir/.$name.stamp"
	chart=
	if [[ $entry == *'|'*'|'* ]]; then
		IFS='|' read -r _ module version pkg ldflags subs <<<"$entry"
		want="$entry $go_version"
	else
		chart=${entry#*|}
		IFS='|' read -r _ module version _ <<<"$(harness_entry "$name")"
		want="$(harness_stamp "$name")${chart:+ chart $chart}"
	fi
	if [[ -x $bin_dir/$name && -f $stamp && "$(<"$stamp")" == "$want" &&
		(-z $chart || -d $bin_dir/charts/${chart##*/}) ]]; then
		log "$name $version ($go_version) already built"
		continue
	fi
	# go build refuses to overwrite a file that is not a Go binary.
	rm -f "$stamp" "$bin_dir/$name"
	start=$SECONDS
	log "building $name ($module@$version) with $go_version into $bin_dir (minutes on 2 cores)"
	if [[ -n $chart ]]; then
		copy_chart "$name" "$module" "$version" "$chart"
	fi
	if [[ $entry == *'|'*'|'* ]]; then
		build_own "$name" "$module" "$version" "$pkg" "$ldflags" "$subs"
	else
		harness_build "$name" "$bin_dir/$name"
	fi
	log "$name built in $((SECONDS - start))s"
	printf '%s\n' "$want" >"$stamp"
done
for entry in "${selected_charts[@]}"; do
	IFS='|' read -r name module version chart <<<"$entry"
	stamp="$bin_dir/.chart-$name.stamp"
	want="$entry"
	if [[ -f $stamp && "$(<"$stamp")" == "$want" && -d $bin_dir/charts/${chart##*/} ]]; then
		log "chart $name $version already copied"
		continue
	fi
	rm -f "$stamp"
	log "copying chart $name ($module@$version) into $bin_dir/charts"
	copy_chart "$name" "$module" "$version" "$chart"
	printf '%s\n' "$want" >"$stamp"
done
printf '%s\n' "$bin_dir"
