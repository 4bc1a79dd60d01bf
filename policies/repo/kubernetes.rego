# Helpers shared by the repository rules. Every rule in this directory reads
# `input` as ONE Kubernetes object (conftest's default for multi-document
# YAML) and lives in package main, so `conftest test --policy policies/repo`
# runs the same files as `tools check` does through OPA's Go library.
package main

# api_group is the group of the object's apiVersion ("" for the core group).
api_group := group if {
	parts := split(input.apiVersion, "/")
	count(parts) == 2
	group := parts[0]
} else := ""

# is_kind holds for an object of the given group and kind, any version.
is_kind(group, kind) if {
	input.kind == kind
	api_group == group
}

object_namespace := object.get(input, ["metadata", "namespace"], "")

object_labels := object.get(input, ["metadata", "labels"], {})

# exact_version holds for an exact semantic version (an optional leading v,
# pre-release and build metadata allowed), not a range, wildcard or empty.
exact_version(v) if {
	is_string(v)
	regex.match(`^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`, v)
}

flux_helm := "helm.toolkit.fluxcd.io"

flux_kustomize := "kustomize.toolkit.fluxcd.io"

flux_source := "source.toolkit.fluxcd.io"
