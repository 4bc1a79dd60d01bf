# shellcheck shell=bash
# What the side-by-side benchmarks share (scripts/bench-pipeline.sh,
# scripts/bench-drift.sh, scripts/bench-flux.sh, gathered by
# scripts/bench-side.sh): the upstream CLIs they compare with, built once
# from the Go module proxy into BENCH_BIN and stamped by version and Go
# toolchain; a work directory; best-of-N timing; and the rows of the
# side-by-side table.
#
# The caller sets bench_name (its log prefix) before sourcing this file,
# which defines log and die for it and the other libraries.

BENCH_BIN=${BENCH_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/bench-bin}
bench_go_version=$(cd / && GOTOOLCHAIN=local go env GOVERSION)

log() { printf '%s: %s\n' "${bench_name:-bench}" "$*" >&2; }
die() {
	log "$*"
	exit 2
}

bench_lib=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=scripts/lib/kubebuild.sh
. "$bench_lib/kubebuild.sh"

# bench_fresh NAME WANT: whether BENCH_BIN/NAME is there and its stamp says
# WANT (the version and the Go toolchain it was built with).
bench_fresh() {
	local stamp="$BENCH_BIN/.$1.version"
	[[ -x $BENCH_BIN/$1 && -f $stamp && "$(<"$stamp")" == "$2" ]]
}

# bench_stamp NAME WANT: record what BENCH_BIN/NAME was built from.
bench_stamp() {
	printf '%s\n' "$2" >"$BENCH_BIN/.$1.version"
}

# bench_install NAME PACKAGE@VERSION: go install into BENCH_BIN unless the
# stamp says this version, built with this Go, is there.
bench_install() {
	local name=$1 pkg=$2 want="$2 $bench_go_version"
	bench_fresh "$name" "$want" && return
	log "building $pkg with $bench_go_version"
	mkdir -p "$BENCH_BIN"
	# Outside the repo so its go.mod plays no part; the local toolchain only.
	(cd / && GOTOOLCHAIN=local GOFLAGS='-mod=mod -buildvcs=false' GOBIN=$BENCH_BIN go install "$pkg") ||
		die "go install $pkg failed"
	bench_stamp "$name" "$want"
}

# bench_kubectl VERSION: k8s.io/kubernetes cmd/kubectl at VERSION (v1.X.Y)
# into BENCH_BIN, the way scripts/testenv.sh builds kube-apiserver (about 3
# minutes on 2 cores).
bench_kubectl() {
	# build_kube_command reads KUBE_VERSION.
	local KUBE_VERSION=$1 want="kubectl $1 $bench_go_version" start=$SECONDS
	bench_fresh kubectl "$want" && return
	rm -f "$BENCH_BIN/.kubectl.version" "$BENCH_BIN/kubectl"
	mkdir -p "$BENCH_BIN"
	log "building kubectl $KUBE_VERSION with $bench_go_version into $BENCH_BIN (about 3 minutes on 2 cores)"
	build_kube_command kubectl "$BENCH_BIN" || die "building kubectl $KUBE_VERSION failed"
	bench_stamp kubectl "$want"
	log "kubectl built in $((SECONDS - start))s"
}

# bench_flux VERSION: the flux CLI (github.com/fluxcd/flux2/v2 cmd/flux at
# vVERSION) into BENCH_BIN. `go install module@version` cannot build it: the
# CLI embeds the install manifests (cmd/flux/manifests/*.yaml), which its
# release build generates and the module zip leaves out. So it is built in a
# copy of the module, as the main module (its go.mod, go.sum and replace
# directive as they are), with one placeholder manifest: only `flux install`
# and `flux bootstrap` read them, and the benchmarks use neither.
bench_flux() {
	local version=$1 want="github.com/fluxcd/flux2/v2/cmd/flux@v$1 $bench_go_version" start=$SECONDS
	bench_fresh flux "$want" && return
	log "building flux v$version with $bench_go_version into $BENCH_BIN"
	local dir src
	dir=$(mktemp -d)
	src=$(cd "$dir" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "github.com/fluxcd/flux2/v2@v$version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -n $src && -f $src/go.mod ]] || die "go mod download github.com/fluxcd/flux2/v2@v$version failed"
	cp -r "$src/." "$dir/flux2"
	chmod -R u+w "$dir/flux2"
	mkdir -p "$dir/flux2/cmd/flux/manifests" "$BENCH_BIN"
	printf '# Placeholder: flux install and bootstrap are not built for the benchmarks.\n' \
		>"$dir/flux2/cmd/flux/manifests/placeholder.yaml"
	(cd "$dir/flux2" && GOTOOLCHAIN=local GOFLAGS='-mod=mod -buildvcs=false' \
		go build -trimpath -ldflags "-s -w -X main.VERSION=$version" -o "$BENCH_BIN/flux" ./cmd/flux)
	local rc=$?
	rm -rf "$dir"
	((rc == 0)) || die "building flux v$version failed"
	bench_stamp flux "$want"
	log "flux built in $((SECONDS - start))s"
}

# bench_need_pyyaml: the scripts read and write YAML with python3 and PyYAML.
bench_need_pyyaml() {
	python3 -c 'import yaml' 2>/dev/null || die "python3 with PyYAML is needed (apt-get install python3-yaml)"
}

# bench_workdir: sets work to a new directory, removed on exit (KEEP=1
# keeps it), after stopping the API server of scripts/lib/apiserver.sh if
# one was started.
bench_workdir() {
	work=$(mktemp -d)
	trap bench_cleanup EXIT
}
bench_cleanup() {
	if declare -F apiserver_stop >/dev/null; then
		apiserver_stop
	fi
	if [[ -n ${KEEP:-} ]]; then
		log "kept $work"
	else
		rm -rf "$work"
	fi
}

# bench_tools: builds this checkout's tools into $work/tools-checkout
# (it writes the synthetic repository: the input is the same whichever
# build is timed) and puts the build to time at $work/tools: $TOOLS when
# set (another build, an older commit's, to compare before and after on
# the same input), else this checkout's.
bench_tools() {
	go build -o "$work/tools-checkout" ./tools || die "go build ./tools failed"
	if [[ -n ${TOOLS:-} ]]; then
		[[ -x $TOOLS ]] || die "TOOLS=$TOOLS: not an executable"
		cp "$TOOLS" "$work/tools"
		log "timing TOOLS=$TOOLS, not this checkout's build"
	else
		cp "$work/tools-checkout" "$work/tools"
	fi
}

TIMEFORMAT=%R
# best N CMD...: the smallest wall time of N runs, in seconds.
best() {
	local n=$1 b="" t
	shift
	for _ in $(seq "$n"); do
		t=$({ time "$@" >/dev/null 2>&1; } 2>&1)
		if [[ -z $b ]] || awk -v a="$t" -v b="$b" 'BEGIN { exit !(a < b) }'; then
			b=$t
		fi
	done
	printf '%s' "$b"
}

# ratio PEER OURS: PEER/OURS as "12.3x".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }

# bench_row FIGURE OURS PEER COMMAND: a row of the side-by-side table, kept
# in BENCH_ROWS (tab-separated) when scripts/bench-side.sh gathers them.
bench_row() {
	[[ -n ${BENCH_ROWS:-} ]] || return 0
	printf 'row\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$BENCH_ROWS"
}

# bench_note TEXT: a note under the side-by-side table.
bench_note() {
	[[ -n ${BENCH_ROWS:-} ]] || return 0
	printf 'note\t%s\n' "$1" >>"$BENCH_ROWS"
}
