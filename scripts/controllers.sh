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
# only that one.
#
# Each binary is built from the Go module proxy with the local toolchain in a
# throwaway module outside the repo (the project's go.mod plays no part), as
# `go build MODULE/PACKAGE` at the version below. `go install pkg@version`
# refuses these modules because their go.mod files have replace directives,
# so the throwaway module requires the controller's module and repeats its
# replace directives, read from the go.mod the proxy serves: a replacement
# with a published module is kept as is; a replacement with a directory of
# the repository (./api, ./pkg/client: nested modules the module zip leaves
# out) becomes that nested module at the controller's own version, which is
# the tag the project publishes with it. Minimal version selection then picks
# exactly the dependency versions upstream builds with.
#
# Versions are the ones infrastructure/ pins (the charts' app versions); each
# is served by the module proxy and its go directive is within Go 1.26, so
# none had to move to a nearby version. The table's comments name the pins.
# Builds run one after another (2 cores); progress goes to stderr, the
# directory to stdout.
set -euo pipefail

log() { printf 'controllers: %s\n' "$*" >&2; }

# name | module | version | package (relative to the module; . = root) |
# extra link flags | dependency substitutions (MODULE@VERSION ...) |
# chart directory in the module, copied to CONTROLLERS_BIN/charts/ (the
# chart our HelmRelease installs, at the same version: the harness renders
# the release from it, so the webhook configuration, flags and CRDs it runs
# with are the ones our values produce)
#
# Version variables are stamped the way each project's own build does, so
# what a controller derives from its version (prometheus-operator's default
# config-reloader image tag, ECK's and Gatekeeper's reported version, Envoy
# Gateway's) matches the released image.
#
# A substitution replaces a dependency whose source the module proxy does not
# serve (it serves the go.mod, so version selection still works, but refuses
# the zip) with the closest version it does serve.
controllers=(
	# Flux v2.9 line. source-controller needs github.com/fluxcd/pkg/artifact
	# v0.18.3, whose zip the proxy refuses; v0.18.0 is the closest served.
	"source-controller|github.com/fluxcd/source-controller|v1.9.6|.||github.com/fluxcd/pkg/artifact@v0.18.0"
	"kustomize-controller|github.com/fluxcd/kustomize-controller|v1.9.6|.||"
	# Flux v2.9's helm-controller is v1.6.x (our helm-controller/api is
	# v1.6.5); the proxy serves v1.6.0 only (it refuses the version list).
	# It needs github.com/fluxcd/pkg/chartutil v1.27.0, whose zip the proxy
	# refuses; v1.27.2, the closest served, stands in.
	"helm-controller|github.com/fluxcd/helm-controller|v1.6.0|.||github.com/fluxcd/pkg/chartutil@v1.27.2"
	# Chart gatekeeper 3.23.0 (infrastructure/gatekeeper/base).
	"gatekeeper|github.com/open-policy-agent/gatekeeper/v3|v3.23.0|.|-X github.com/open-policy-agent/gatekeeper/v3/pkg/version.Version=v3.23.0||charts/gatekeeper"
	# The operators whose workloads our constraints must admit (the stack
	# test runs them). Chart gateway-helm v1.8.3
	# (infrastructure/controllers/base/envoy-gateway): in the module it is
	# the release template (values.tmpl.yaml, version v0.0.0-latest), made
	# into the published chart by package_chart below.
	"envoy-gateway|github.com/envoyproxy/gateway|v1.8.3|cmd/envoy-gateway|-X github.com/envoyproxy/gateway/internal/cmd/version.envoyGatewayVersion=v1.8.3||charts/gateway-helm"
	# Chart eck-operator 3.5.0 (infrastructure/controllers/base/eck-operator).
	# Built without the `release` tag, as ECK's own dev builds: no embedded
	# license public key, so only the basic license (all we use) applies.
	"eck-operator|github.com/elastic/cloud-on-k8s/v3|v3.5.0|cmd|-X github.com/elastic/cloud-on-k8s/v3/pkg/about.version=3.5.0 -X github.com/elastic/cloud-on-k8s/v3/pkg/about.buildSnapshot=false||deploy/eck-operator"
)
# Built only when named. prometheus-operator reconciles the Prometheus and
# Alertmanager objects of the kube-prometheus-stack chart, which no module
# carries (docs/e2e.md). The module proxy serves notification-controller at
# v1.9.0 only (it refuses the version list).
optional=(
	# kube-prometheus-stack 88.5.3 ships prometheus-operator v0.93.1.
	"prometheus-operator|github.com/prometheus-operator/prometheus-operator|v0.93.1|cmd/operator|-X github.com/prometheus/common/version.Version=0.93.1|"
	"notification-controller|github.com/fluxcd/notification-controller|v1.9.0|.||"
)

if [[ ${1:-} == --list ]]; then
	for entry in "${controllers[@]}" "${optional[@]}"; do
		IFS='|' read -r name module version pkg _ _ _ <<<"$entry"
		printf '%s\t%s\t%s\t%s\n' "$name" "$module" "$version" "$pkg"
	done
	exit 0
fi

# Which entries to build: all defaults, or the names given.
selected=()
if (($# == 0)); then
	selected=("${controllers[@]}")
else
	for want_name in "$@"; do
		found=
		for entry in "${controllers[@]}" "${optional[@]}"; do
			if [[ ${entry%%|*} == "$want_name" ]]; then
				selected+=("$entry")
				found=1
			fi
		done
		if [[ -z $found ]]; then
			log "unknown controller $want_name (scripts/controllers.sh --list names them)"
			exit 2
		fi
	done
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin_dir=${CONTROLLERS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/controllers}
go_version=$(cd / && GOTOOLCHAIN=local go env GOVERSION)
mkdir -p "$bin_dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# gobuild: GOTOOLCHAIN=local and -mod=mod, shared with the Kubernetes builds.
# shellcheck source=scripts/lib/kubebuild.sh
. "$root/scripts/lib/kubebuild.sh"

# replace_lines GOMOD VERSION prints the throwaway module's replace
# directives for the upstream go.mod GOMOD of a module at VERSION.
replace_lines() {
	local gomod=$1 version=$2 line
	local -a old new
	# Both forms: `replace A => B` and `replace ( ... )`; comments dropped.
	awk '
		/^replace[ \t]*\($/ { block = 1; next }
		block && /^\)/ { block = 0; next }
		block { print; next }
		/^replace[ \t]/ { sub(/^replace[ \t]+/, ""); print }
	' "$gomod" | sed 's|//.*||' | while IFS= read -r line; do
		[[ $line == *'=>'* ]] || continue
		read -r -a old <<<"${line%%=>*}"
		read -r -a new <<<"${line#*=>}"
		if [[ ${new[0]} == ./* || ${new[0]} == ../* ]]; then
			printf 'replace %s => %s %s\n' "${old[0]}" "${old[0]}" "$version"
		else
			printf 'replace %s => %s\n' "${old[*]}" "${new[*]}"
		fi
	done
}

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
	esac
}

# build_controller NAME MODULE VERSION PACKAGE LDFLAGS SUBSTITUTIONS CHART
# builds MODULE/PACKAGE at VERSION into bin_dir/NAME and copies the module's
# CHART directory, if any, to bin_dir/charts/.
build_controller() {
	local name=$1 module=$2 version=$3 pkg=$4 ldflags=$5 subs=$6 chart=$7
	local mod="$work/$name" import=$module
	[[ $pkg == . ]] || import="$module/$pkg"
	mkdir -p "$mod"
	local info gomod dir
	info=$(cd "$mod" && gobuild go mod download -json "$module@$version")
	gomod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' <<<"$info")
	dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$info")
	if [[ -z $gomod || -z $dir ]]; then
		log "the module proxy does not serve $module@$version"
		return 1
	fi
	if [[ -n $chart ]]; then
		rm -rf "${bin_dir:?}/charts/${chart##*/}"
		mkdir -p "$bin_dir/charts"
		cp -r "$dir/$chart" "$bin_dir/charts/"
		# The module cache is read-only; the copy need not be.
		chmod -R u+w "$bin_dir/charts/${chart##*/}"
		package_chart "$name" "$bin_dir/charts/${chart##*/}" "$version"
	fi
	{
		printf 'module controllersbuild/%s\n\ngo 1.26.0\n\n' "$name"
		printf 'require %s %s\n\n' "$module" "$version"
		replace_lines "$gomod" "$version"
	} >"$mod/go.mod"
	local sub
	for sub in $subs; do
		(cd "$mod" && go mod edit -replace "${sub%@*}=$sub")
	done
	# go build -mod=mod resolves only what this one command needs (go mod
	# tidy would also chase the test dependencies of every imported
	# package, several of them not served) and records their checksums.
	(cd "$mod" &&
		CGO_ENABLED=0 gobuild go build -trimpath -ldflags "-s -w $ldflags" -o "$bin_dir/$name" "$import")
}

for entry in "${selected[@]}"; do
	IFS='|' read -r name module version pkg ldflags subs chart <<<"$entry"
	stamp="$bin_dir/.$name.stamp"
	want="$module@$version $pkg [$ldflags] [$subs] $go_version${chart:+ chart $chart}"
	if [[ -x $bin_dir/$name && -f $stamp && "$(<"$stamp")" == "$want" &&
		(-z $chart || -d $bin_dir/charts/${chart##*/}) ]]; then
		log "$name $version ($go_version) already built"
		continue
	fi
	# go build refuses to overwrite a file that is not a Go binary.
	rm -f "$stamp" "$bin_dir/$name"
	start=$SECONDS
	log "building $name ($module@$version) with $go_version into $bin_dir (minutes on 2 cores)"
	build_controller "$name" "$module" "$version" "$pkg" "$ldflags" "$subs" "$chart"
	log "$name built in $((SECONDS - start))s"
	printf '%s\n' "$want" >"$stamp"
done
printf '%s\n' "$bin_dir"
