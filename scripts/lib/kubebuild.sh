# shellcheck shell=bash
# Builds Kubernetes commands (kube-apiserver, kubectl) from the Go module
# proxy with the local toolchain, in a throwaway module outside the repo.
# Sourced by scripts/testenv.sh and scripts/bench-drift.sh; the caller sets
# KUBE_VERSION and defines log.

# Go flags for the builds: GOTOOLCHAIN=local fails loudly instead of
# fetching another toolchain; -mod=mod lets tidy write go.sum.
gobuild() {
	GOTOOLCHAIN=local GOFLAGS='-mod=mod -buildvcs=false' "$@"
}

# build_kube_command NAME OUT_DIR builds k8s.io/kubernetes/cmd/NAME at
# KUBE_VERSION into OUT_DIR/NAME. k8s.io/kubernetes requires its staging
# modules at v0.0.0 and replaces them with ./staging directories that the
# module zip does not serve, so the throwaway module replaces each staging
# module with its published release (v1.X.Y -> v0.X.Y).
build_kube_command() {
	local name=$1 out_dir=$2 staging_version="v0.${KUBE_VERSION#v1.}"
	local mod
	mod=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: mod is local
	trap "rm -rf '$mod'" RETURN
	local gomod
	gomod=$(cd "$mod" && gobuild go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" |
		sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
	local staging
	staging=$(sed -n 's|^[[:space:]]*\(k8s.io/[^ ]*\) => \./staging/.*|\1|p' "$gomod")
	if [[ -z $staging ]]; then
		log "no staging replacements found in $gomod"
		return 1
	fi
	{
		printf 'module kubebuild/%s\n\ngo 1.26.0\n\n' "$name"
		printf 'require k8s.io/kubernetes %s\n\n' "$KUBE_VERSION"
		local m
		for m in $staging; do
			printf 'replace %s => %s %s\n' "$m" "$m" "$staging_version"
		done
	} >"$mod/go.mod"
	printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/%s"\n' "$name" >"$mod/tools.go"
	# The version the command reports (/version, discovery, kubectl
	# version): Kubernetes' own build stamps these the same way
	# (hack/lib/version.sh).
	local minor=${KUBE_VERSION#v1.}
	minor=${minor%%.*}
	local ldflags="-s -w" pkg
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
		ldflags+=" -X $pkg.gitTreeState=clean"
	done
	(cd "$mod" && gobuild go mod tidy &&
		gobuild go build -trimpath -ldflags "$ldflags" -o "$out_dir/$name" "k8s.io/kubernetes/cmd/$name")
}
