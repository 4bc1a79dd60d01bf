package main

# METADATA
# scope: document
# title: source_scheme
# description: >-
#   Chart and manifest sources are fetched over an authenticated transport:
#   HelmRepository url https:// (or oci:// with spec.type oci), OCIRepository
#   oci://, GitRepository https:// or ssh:// (any GitRepository may hold
#   charts), and none of them with spec.insecure (plain HTTP).
# custom:
#   input: rendered
deny_source_scheme contains msg if {
	is_kind(flux_source, "HelmRepository")
	object.get(input.spec, "type", "default") == "oci"
	not startswith(source_url, "oci://")
	msg := sprintf("url %q: a HelmRepository of spec.type oci needs an oci:// url", [source_url])
}

deny_source_scheme contains msg if {
	is_kind(flux_source, "HelmRepository")
	object.get(input.spec, "type", "default") != "oci"
	not startswith(source_url, "https://")
	msg := sprintf("url %q is not https://%s", [source_url, oci_hint])
}

deny_source_scheme contains msg if {
	is_kind(flux_source, "OCIRepository")
	not startswith(source_url, "oci://")
	msg := sprintf("url %q is not oci://", [source_url])
}

deny_source_scheme contains msg if {
	is_kind(flux_source, "GitRepository")
	not startswith(source_url, "https://")
	not startswith(source_url, "ssh://")
	msg := sprintf("url %q is neither https:// nor ssh://", [source_url])
}

deny_source_scheme contains msg if {
	input.kind in {"HelmRepository", "OCIRepository", "Bucket"}
	api_group == flux_source
	object.get(input.spec, "insecure", false) == true
	msg := "spec.insecure allows plain HTTP to the source"
}

source_url := object.get(input, ["spec", "url"], "")

oci_hint := " (an oci:// url needs spec.type: oci)" if {
	startswith(source_url, "oci://")
} else := ""
