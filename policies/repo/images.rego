package main

# METADATA
# scope: document
# title: image_pinned
# description: >-
#   Every container image of a workload (Pod, Deployment, StatefulSet,
#   DaemonSet, ReplicaSet, ReplicationController, Job, CronJob; containers,
#   initContainers and ephemeralContainers) has a digest or a tag other than
#   latest. An image without a tag is latest.
# custom:
#   input: rendered
deny_image_pinned contains msg if {
	some [field, container] in workload_containers
	image := object.get(container, "image", "")
	image != ""
	not contains(image, "@")
	tag := image_tag(image)
	tag in {"", "latest"}
	msg := sprintf("%s %q: image %q has %s: use a release tag or a digest", [field, object.get(container, "name", ""), image, describe_tag(tag)])
}

# image_tag is the tag of a reference without digest ("" for none). A colon
# before the last slash is a registry port, not a tag.
image_tag(image) := tag if {
	parts := split(image, "/")
	last := parts[count(parts) - 1]
	i := indexof(last, ":")
	i >= 0
	tag := substring(last, i + 1, -1)
} else := ""

describe_tag("") := "no tag (latest)"

describe_tag("latest") := "the latest tag"

workload_apis := {
	"Pod": {"v1"},
	"ReplicationController": {"v1"},
	"Deployment": {"apps/v1"},
	"StatefulSet": {"apps/v1"},
	"DaemonSet": {"apps/v1"},
	"ReplicaSet": {"apps/v1"},
	"Job": {"batch/v1"},
	"CronJob": {"batch/v1"},
}

pod_spec := input.spec if {
	input.kind == "Pod"
	input.apiVersion in workload_apis.Pod
}

pod_spec := input.spec.jobTemplate.spec.template.spec if {
	input.kind == "CronJob"
	input.apiVersion in workload_apis.CronJob
}

pod_spec := input.spec.template.spec if {
	not input.kind in {"Pod", "CronJob"}
	input.apiVersion in workload_apis[input.kind]
}

workload_containers contains [field, container] if {
	some field in ["containers", "initContainers", "ephemeralContainers"]
	some container in object.get(pod_spec, field, [])
}
