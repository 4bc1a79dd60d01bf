package main

deployment(containers, init) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "crapi"},
	"spec": {"template": {"spec": {"containers": containers, "initContainers": init}}},
}

test_image_tag_or_digest_passes if {
	count(deny_image_pinned) == 0 with input as deployment([{"name": "web", "image": "crapi/crapi-web:v1.1.5"}], [{"name": "init", "image": "busybox@sha256:0123"}])
	count(deny_image_pinned) == 0 with input as deployment([{"name": "web", "image": "registry.example.com:5000/crapi/web:1.0"}], [])
}

test_image_latest_denied if {
	deny_image_pinned == {`containers "web": image "crapi/crapi-web:latest" has the latest tag: use a release tag or a digest`} with input as deployment([{"name": "web", "image": "crapi/crapi-web:latest"}], [])
}

test_image_without_tag_denied if {
	deny_image_pinned == {`initContainers "wait": image "registry.example.com:5000/busybox" has no tag (latest): use a release tag or a digest`} with input as deployment([{"name": "web", "image": "crapi/crapi-web:v1.1.5"}], [{"name": "wait", "image": "registry.example.com:5000/busybox"}])
}

test_image_cronjob_denied if {
	count(deny_image_pinned) == 1 with input as {
		"apiVersion": "batch/v1",
		"kind": "CronJob",
		"metadata": {"name": "backup", "namespace": "crapi"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "backup", "image": "postgres"}]}}}}},
	}
}

test_image_cronjob_passes if {
	count(deny_image_pinned) == 0 with input as {
		"apiVersion": "batch/v1",
		"kind": "CronJob",
		"metadata": {"name": "backup", "namespace": "crapi"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "backup", "image": "postgres:14"}]}}}}},
	}
}

test_image_pod_ephemeral_denied if {
	count(deny_image_pinned) == 1 with input as {
		"apiVersion": "v1",
		"kind": "Pod",
		"metadata": {"name": "debug", "namespace": "crapi"},
		"spec": {
			"containers": [{"name": "app", "image": "app:1.0"}],
			"ephemeralContainers": [{"name": "debugger", "image": "busybox:latest"}],
		},
	}
}

test_image_other_kinds_not_judged if {
	count(deny_image_pinned) == 0 with input as {
		"apiVersion": "example.com/v1",
		"kind": "Deployment",
		"metadata": {"name": "x"},
		"spec": {"template": {"spec": {"containers": [{"name": "x", "image": "x:latest"}]}}},
	}
}
