#!/usr/bin/env bash
# Checks and unit-tests our PrometheusRules with promtool (make test).
#
# Each PrometheusRule under RULES_DIR is one object whose `spec` is a
# Prometheus rule file: the script writes that spec, de-indented, to
# <name>.rules.yaml in a scratch directory, copies the tests from TESTS_DIR
# beside it, then runs `promtool check rules` and `promtool test rules`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RULES_DIR=${RULES_DIR:-infrastructure/configs/base/monitoring/rules}
TESTS_DIR=${TESTS_DIR:-infrastructure/configs/base/monitoring/rule-tests}
PROMTOOL=${PROMTOOL:-promtool}

command -v "$PROMTOOL" >/dev/null || {
	echo "test-prometheus-rules: $PROMTOOL not found; run 'make tools'" >&2
	exit 2
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

shopt -s nullglob
rule_files=()
for f in "$RULES_DIR"/*.yaml; do
	name=$(basename "$f" .yaml)
	if ! grep -q '^kind: PrometheusRule$' "$f"; then
		echo "test-prometheus-rules: $f is not a PrometheusRule" >&2
		exit 2
	fi
	# Everything after the top-level "spec:" line, minus two spaces of indent.
	awk 'found { sub(/^  /, ""); print } /^spec:/ { found = 1 }' "$f" >"$work/$name.rules.yaml"
	rule_files+=("$work/$name.rules.yaml")
done
tests=("$TESTS_DIR"/*.test.yaml)
if ((${#rule_files[@]} == 0 || ${#tests[@]} == 0)); then
	echo "test-prometheus-rules: no rules in $RULES_DIR or no tests in $TESTS_DIR" >&2
	exit 2
fi

# Every alert must be exercised by some test.
missing=0
while read -r alert; do
	if ! grep -q "alertname: $alert\$" "${tests[@]}"; then
		echo "test-prometheus-rules: alert $alert has no test" >&2
		missing=1
	fi
done < <(grep -ho '^ *- alert: [A-Za-z0-9_]*' "$RULES_DIR"/*.yaml | awk '{print $3}' | sort -u)

cp "${tests[@]}" "$work/"
"$PROMTOOL" check rules "${rule_files[@]}"
(cd "$work" && "$PROMTOOL" test rules ./*.test.yaml)
exit "$missing"
