package main

# METADATA
# scope: document
# title: chart_version_pinned
# description: >-
#   Every HelmRelease pins an exact chart version: spec.chart.spec.version is
#   an exact semver (not a range, a wildcard or empty, which Flux reads as
#   "*", the newest). A HelmRelease with spec.chartRef takes its chart from an
#   OCIRepository or HelmChart object, so the pin is checked on that object:
#   every OCIRepository has spec.ref.digest, an exact spec.ref.semver or a
#   spec.ref.tag other than latest (no spec.ref means latest), and every
#   HelmChart an exact spec.version. Charts from a GitRepository or Bucket
#   have no version to pin (Flux ignores it): their revision is the source's.
# custom:
#   input: rendered
deny_chart_version_pinned contains msg if {
	some chart in chart_specs
	object.get(chart, ["sourceRef", "kind"], "HelmRepository") == "HelmRepository"
	version := object.get(chart, "version", "")
	not exact_version(version)
	msg := sprintf("chart %s: version %s is not an exact version (a range, wildcard or empty follows the newest chart)", [object.get(chart, "chart", ""), describe_version(version)])
}

deny_chart_version_pinned contains msg if {
	is_kind(flux_source, "OCIRepository")
	ref := object.get(input.spec, "ref", {})
	not oci_ref_pinned(ref)
	msg := sprintf("spec.ref %s does not pin an artifact: set spec.ref.digest, an exact spec.ref.semver or a spec.ref.tag other than latest", [describe_ref(ref)])
}

# chart_specs holds the chart spec of a HelmRelease (spec.chart.spec) or a
# HelmChart (spec): the same fields, judged alike.
chart_specs contains input.spec.chart.spec if is_kind(flux_helm, "HelmRelease")

chart_specs contains input.spec if is_kind(flux_source, "HelmChart")

oci_ref_pinned(ref) if object.get(ref, "digest", "") != ""

oci_ref_pinned(ref) if {
	object.get(ref, "digest", "") == ""
	exact_version(ref.semver)
}

oci_ref_pinned(ref) if {
	object.get(ref, "digest", "") == ""
	object.get(ref, "semver", "") == ""
	not object.get(ref, "tag", "") in {"", "latest"}
}

describe_version(v) := sprintf("%q", [v]) if v != ""

describe_version("") := "(none)"

describe_ref(ref) := "(none)" if count(ref) == 0

describe_ref(ref) := json.marshal(ref) if count(ref) > 0
