package main

source(kind, spec) := {
	"apiVersion": "source.toolkit.fluxcd.io/v1",
	"kind": kind,
	"metadata": {"name": "charts", "namespace": "falco"},
	"spec": spec,
}

test_source_scheme_passes if {
	count(deny_source_scheme) == 0 with input as source("HelmRepository", {"url": "https://falcosecurity.github.io/charts"})
	count(deny_source_scheme) == 0 with input as source("HelmRepository", {"type": "oci", "url": "oci://ghcr.io/falcosecurity/charts"})
	count(deny_source_scheme) == 0 with input as source("OCIRepository", {"url": "oci://docker.io/envoyproxy/gateway-helm"})
	count(deny_source_scheme) == 0 with input as source("GitRepository", {"url": "ssh://git@github.com/org/charts"})
	count(deny_source_scheme) == 0 with input as source("GitRepository", {"url": "https://github.com/org/charts"})
}

test_helmrepository_http_denied if {
	deny_source_scheme == {`url "http://charts.example.com" is not https://`} with input as source("HelmRepository", {"url": "http://charts.example.com"})
}

test_helmrepository_oci_without_type_denied if {
	deny_source_scheme == {`url "oci://ghcr.io/x" is not https:// (an oci:// url needs spec.type: oci)`} with input as source("HelmRepository", {"url": "oci://ghcr.io/x"})
	count(deny_source_scheme) == 1 with input as source("HelmRepository", {"type": "oci", "url": "https://ghcr.io/x"})
}

test_ocirepository_insecure_denied if {
	deny_source_scheme == {"spec.insecure allows plain HTTP to the source"} with input as source("OCIRepository", {"url": "oci://registry.local/x", "insecure": true})
}

test_gitrepository_plain_git_denied if {
	count(deny_source_scheme) == 1 with input as source("GitRepository", {"url": "git://example.com/charts"})
	count(deny_source_scheme) == 1 with input as source("GitRepository", {"url": "http://example.com/charts"})
}
