package main

helmrelease(chart) := {
	"apiVersion": "helm.toolkit.fluxcd.io/v2",
	"kind": "HelmRelease",
	"metadata": {"name": "falco", "namespace": "falco"},
	"spec": {"chart": {"spec": chart}},
}

test_chart_version_exact_passes if {
	count(deny_chart_version_pinned) == 0 with input as helmrelease({"chart": "falco", "version": "9.1.0", "sourceRef": {"kind": "HelmRepository", "name": "falcosecurity"}})
	count(deny_chart_version_pinned) == 0 with input as helmrelease({"chart": "gateway-helm", "version": "v1.8.2", "sourceRef": {"kind": "HelmRepository", "name": "envoy"}})
	count(deny_chart_version_pinned) == 0 with input as helmrelease({"chart": "x", "version": "1.0.0-rc.1+build.5"})
}

test_chart_version_range_denied if {
	deny_chart_version_pinned == {`chart falco: version "9.x" is not an exact version (a range, wildcard or empty follows the newest chart)`} with input as helmrelease({"chart": "falco", "version": "9.x"})
	count(deny_chart_version_pinned) == 1 with input as helmrelease({"chart": "falco", "version": ">=9.0.0"})
	count(deny_chart_version_pinned) == 1 with input as helmrelease({"chart": "falco", "version": "*"})
	count(deny_chart_version_pinned) == 1 with input as helmrelease({"chart": "falco", "version": "~9.1.0"})
}

test_chart_version_missing_denied if {
	deny_chart_version_pinned == {`chart falco: version (none) is not an exact version (a range, wildcard or empty follows the newest chart)`} with input as helmrelease({"chart": "falco"})
}

test_chart_version_git_source_not_judged if {
	count(deny_chart_version_pinned) == 0 with input as helmrelease({"chart": "./charts/app", "sourceRef": {"kind": "GitRepository", "name": "app"}})
}

ocirepository(ref) := {
	"apiVersion": "source.toolkit.fluxcd.io/v1",
	"kind": "OCIRepository",
	"metadata": {"name": "envoy-gateway", "namespace": "envoy-gateway-system"},
	"spec": {"url": "oci://docker.io/envoyproxy/gateway-helm", "ref": ref},
}

test_ocirepository_pinned_passes if {
	count(deny_chart_version_pinned) == 0 with input as ocirepository({"tag": "v1.8.2"})
	count(deny_chart_version_pinned) == 0 with input as ocirepository({"semver": "1.8.2"})
	count(deny_chart_version_pinned) == 0 with input as ocirepository({"semver": "1.8.2", "tag": "latest"})
	count(deny_chart_version_pinned) == 0 with input as ocirepository({"digest": "sha256:0123456789abcdef"})
	count(deny_chart_version_pinned) == 0 with input as ocirepository({"digest": "sha256:0123456789abcdef", "semver": ">=1.0.0"})
}

test_ocirepository_unpinned_denied if {
	count(deny_chart_version_pinned) == 1 with input as ocirepository({"tag": "latest"})
	count(deny_chart_version_pinned) == 1 with input as ocirepository({"semver": ">=1.8.0"})
	count(deny_chart_version_pinned) == 1 with input as ocirepository({"tag": ""})
	deny_chart_version_pinned == {"spec.ref (none) does not pin an artifact: set spec.ref.digest, an exact spec.ref.semver or a spec.ref.tag other than latest"} with input as ocirepository({})
}

test_helmchart_version_denied if {
	count(deny_chart_version_pinned) == 1 with input as {
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind": "HelmChart",
		"metadata": {"name": "podinfo", "namespace": "apps"},
		"spec": {"chart": "podinfo", "version": "6.x", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}},
	}
}
