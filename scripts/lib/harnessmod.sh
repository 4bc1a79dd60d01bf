# shellcheck shell=bash
# One Go module for every binary the tests run as a process: the controllers
# (scripts/controllers.sh) and the upstream CLIs the tests compare with
# (gator, promtool, amtool: scripts/install-tools.sh).
#
# Why one module. On 2 cores a controller built in a module of its own took
# about 7 minutes from an empty build cache, most of it compiling k8s.io/*,
# controller-runtime, Helm and OPA, once more for each controller and once
# more for `go test`: a cold CI run spent over 40 minutes on six
# controllers. In one module, minimal version selection picks one version of
# each dependency for all of them and for the project itself (the module
# starts from the project's go.mod), and every binary is built with the
# flags the Makefile gives go test and go vet (CGO_ENABLED=0, no -trimpath),
# so each package is compiled once for everything.
#
# What that costs: a binary's dependencies are the newest any of them (or the
# project) requires, where upstream's build uses its own go.mod's. The
# binaries' own modules are at the versions the clusters pin, and their
# replace directives are kept: a controller whose nested API module is
# replaced by ./api gets that API module at its own version, and the
# kustomize pin of the Flux controllers (sigs.k8s.io/kustomize/api v0.21.1)
# stays, so kustomize-controller builds with the kustomize it ships with,
# not the project's (the harness compares the two). Where two modules
# replace the same dependency differently the later entry's replacement
# wins (opencontainers/go-digest: both are BLAKE3-capable commits of
# master). The version differences are patch releases of the Kubernetes
# libraries (v0.36.x), which change no API the harness exercises.
#
# The caller defines log.

# name | module | version | package (relative to the module; . = root) |
# extra link flags | dependency substitutions (MODULE@VERSION ...)
#
# Version variables are stamped the way each project's own build does, so
# what a binary derives from its version (ECK's and Gatekeeper's reported
# version, Envoy Gateway's, amtool's) matches the released image.
#
# A substitution replaces a dependency whose source the module proxy does not
# serve (it serves the go.mod, so version selection still works, but refuses
# the zip) with the closest version it does serve.
harness_binaries=(
	# Flux v2.9 line. source-controller needs github.com/fluxcd/pkg/artifact
	# v0.18.3, whose zip the proxy refuses; v0.18.0 is the closest served.
	"source-controller|github.com/fluxcd/source-controller|v1.9.6|.||github.com/fluxcd/pkg/artifact@v0.18.0"
	"kustomize-controller|github.com/fluxcd/kustomize-controller|v1.9.6|.||"
	# Flux v2.9's helm-controller is v1.6.x (our helm-controller/api is
	# v1.6.5); the proxy serves v1.6.0 only (it refuses the version list).
	# It requires github.com/fluxcd/pkg/chartutil v1.27.0, whose zip the
	# proxy refuses; the project's v1.27.2 is selected instead.
	"helm-controller|github.com/fluxcd/helm-controller|v1.6.0|.||"
	# Chart gatekeeper 3.23.1 (infrastructure/gatekeeper/base); gator from
	# the same release (the project's go.mod requires it too).
	"gatekeeper|github.com/open-policy-agent/gatekeeper/v3|v3.23.1|.|-X github.com/open-policy-agent/gatekeeper/v3/pkg/version.Version=v3.23.1|"
	"gator|github.com/open-policy-agent/gatekeeper/v3|v3.23.1|cmd/gator|-X github.com/open-policy-agent/gatekeeper/v3/pkg/version.Version=v3.23.1|"
	# Chart gateway-helm v1.8.3 (infrastructure/controllers/base/envoy-gateway).
	"envoy-gateway|github.com/envoyproxy/gateway|v1.8.3|cmd/envoy-gateway|-X github.com/envoyproxy/gateway/internal/cmd/version.envoyGatewayVersion=v1.8.3|"
	# Chart eck-operator 3.5.0 (infrastructure/controllers/base/eck-operator).
	# Built without the `release` tag, as ECK's own dev builds: no embedded
	# license public key, so only the basic license (all we use) applies.
	"eck-operator|github.com/elastic/cloud-on-k8s/v3|v3.5.0|cmd|-X github.com/elastic/cloud-on-k8s/v3/pkg/about.version=3.5.0 -X github.com/elastic/cloud-on-k8s/v3/pkg/about.buildSnapshot=false|"
	# promtool of the project's Prometheus module (its PrometheusRule tests).
	"promtool|github.com/prometheus/prometheus|v0.313.5|cmd/promtool||"
	# amtool at the Alertmanager of kube-prometheus-stack 88.5.3 (its values'
	# alertmanager.alertmanagerSpec.image.tag): the routing tree's tests.
	"amtool|github.com/prometheus/alertmanager|v0.34.0|cmd/amtool|-X github.com/prometheus/common/version.Version=0.34.0|"
	# kube-prometheus-stack 88.5.3 ships prometheus-operator v0.93.1; its
	# default config-reloader image tag derives from the stamped version.
	"prometheus-operator|github.com/prometheus-operator/prometheus-operator|v0.93.1|cmd/operator|-X github.com/prometheus/common/version.Version=0.93.1|"
)

# The repository whose go.mod the module starts from.
harness_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# gobuild (GOTOOLCHAIN=local, -mod=mod), shared with the Kubernetes builds.
# shellcheck source=scripts/lib/kubebuild.sh
. "$harness_repo/scripts/lib/kubebuild.sh"

# harness_entry NAME prints NAME's row of harness_binaries.
harness_entry() {
	local entry
	for entry in "${harness_binaries[@]}"; do
		if [[ ${entry%%|*} == "$1" ]]; then
			printf '%s\n' "$entry"
			return 0
		fi
	done
	log "no harness binary named $1"
	return 1
}

# replace_lines GOMOD VERSION prints replace directives for the upstream
# go.mod GOMOD of a module at VERSION: a replacement with a published module
# as is; a replacement with a directory of the repository (./api: a nested
# module the module zip leaves out) as that nested module at VERSION, the
# tag the project publishes with it.
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
			printf '%s=%s@%s\n' "${old[0]}" "${old[0]}" "$version"
		elif ((${#old[@]} == 1 && ${#new[@]} == 2)); then
			printf '%s=%s@%s\n' "${old[0]}" "${new[0]}" "${new[1]}"
		else
			printf '%s@%s=%s@%s\n' "${old[0]}" "${old[1]}" "${new[0]}" "${new[1]}"
		fi
	done
}

# module_download DIR MODULE@VERSION FIELD prints FIELD ("GoMod": the
# go.mod file, "Dir": the extracted module) of the module as the proxy
# serves it, downloaded from DIR (any module directory).
module_download() {
	local dir=$1 mv=$2 field=$3 value
	value=$(cd "$dir" && gobuild go mod download -json "$mv" |
		sed -n "s/^[[:space:]]*\"$field\": \"\(.*\)\",\$/\1/p")
	if [[ -z $value ]]; then
		log "the module proxy does not serve $mv"
		return 1
	fi
	printf '%s\n' "$value"
}

# module_replaces GOMOD VERSION SUBSTITUTIONS prints the go mod edit
# -replace flags, one a line, for a module at VERSION whose upstream go.mod
# is GOMOD: its own replace directives (replace_lines), then the
# substitutions (MODULE@VERSION ...).
module_replaces() {
	local gomod=$1 version=$2 subs=$3 rep sub
	while IFS= read -r rep; do
		printf -- '-replace=%s\n' "$rep"
	done < <(replace_lines "$gomod" "$version")
	for sub in $subs; do
		printf -- '-replace=%s=%s\n' "${sub%@*}" "$sub"
	done
}

# harness_module prints the directory of the shared module, made (or
# remade) from the project's go.mod and the table when either changed. It
# lives in the cache (HARNESS_MOD, default
# ${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/harness-module) so go.sum is
# resolved once; its .key file names what it was made from.
harness_module() {
	local dir=${HARNESS_MOD:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/harness-module}
	local key
	key=$(harness_key)
	if [[ -f $dir/go.mod && -f $dir/.key && "$(<"$dir/.key")" == "$key" ]]; then
		printf '%s\n' "$dir"
		return 0
	fi
	log "making the harness module in $dir"
	rm -rf "$dir"
	mkdir -p "$dir"
	sed '1s|^module .*|module aksgitops/harness|' "$harness_repo/go.mod" >"$dir/go.mod"
	cp "$harness_repo/go.sum" "$dir/go.sum"
	local entry name module version gomod seen=" " edits=()
	for entry in "${harness_binaries[@]}"; do
		IFS='|' read -r name module version _ _ subs <<<"$entry"
		[[ $seen == *" $module "* ]] && continue
		seen+="$module "
		gomod=$(module_download "$dir" "$module@$version" GoMod) || return 1
		edits+=("-require=$module@$version")
		mapfile -t -O "${#edits[@]}" edits < <(module_replaces "$gomod" "$version" "$subs")
	done
	(cd "$dir" && gobuild go mod edit "${edits[@]}")
	printf '%s\n' "$key" >"$dir/.key"
	printf '%s\n' "$dir"
}

# harness_key prints what the shared module is made from: the project's
# go.mod, the table and the Go toolchain. A binary's stamp records it, so a
# change to any of them rebuilds (relinks, mostly) every binary.
harness_key() {
	{
		cat "$harness_repo/go.mod"
		printf '%s\n' "${harness_binaries[@]}"
		cd / && GOTOOLCHAIN=local go env GOVERSION
	} | sha256sum | cut -d' ' -f1
}

# harness_build NAME OUT builds NAME of the table into the file OUT in the
# shared module, statically linked (the harness runs controllers chrooted).
harness_build() {
	local name=$1 out=$2 entry module pkg ldflags import dir
	entry=$(harness_entry "$name")
	IFS='|' read -r _ module _ pkg ldflags _ <<<"$entry"
	import=$module
	[[ $pkg == . ]] || import="$module/$pkg"
	dir=$(harness_module)
	# go build refuses to overwrite a file that is not a Go binary.
	rm -f "$out"
	(cd "$dir" && CGO_ENABLED=0 gobuild go build -ldflags "-s -w $ldflags" -o "$out" "$import")
}

# harness_stamp NAME prints the stamp of NAME's binary: its table row and
# the shared module's key.
harness_stamp() {
	printf '%s %s\n' "$(harness_entry "$1")" "$(harness_key)"
}
