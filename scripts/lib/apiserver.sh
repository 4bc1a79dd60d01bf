# shellcheck shell=bash
# A throwaway etcd and kube-apiserver on free loopback ports, started from
# the testenv binaries (scripts/testenv.sh) the way tools/internal/testenv
# starts them, for the benchmarks that need a real API server
# (scripts/bench-pipeline.sh fetches /openapi/v2, scripts/bench-flux.sh runs
# flux diff and tools diff --live against it).
#
#   apiserver_start BIN_DIR DIR   start both, state under DIR; sets
#                                 apiserver_url and apiserver_token, writes
#                                 DIR/kubeconfig (system:masters)
#   apiserver_stop                stop both (the caller's EXIT trap too)
#
# The caller defines log and die (scripts/lib/bench.sh does).

apiserver_pids=()
apiserver_url=""
apiserver_token=""

apiserver_start() {
	local bin=$1 dir=$2
	[[ -x $bin/kube-apiserver && -x $bin/etcd ]] ||
		die "kube-apiserver and etcd not found in $bin; run 'make testenv'"
	mkdir -p "$dir"
	local ports etcd_port peer_port api_port i
	ports=$(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
	read -r etcd_port peer_port api_port <<<"$ports"
	apiserver_token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	apiserver_url="https://127.0.0.1:$api_port"
	printf '%s,bench,bench,"system:masters"\n' "$apiserver_token" >"$dir/tokens.csv"
	openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null || die "openssl genrsa failed"
	"$bin/etcd" --name=bench --data-dir="$dir/etcd" \
		--listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
		--listen-peer-urls="http://127.0.0.1:$peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
		--initial-cluster="bench=http://127.0.0.1:$peer_port" --unsafe-no-fsync --log-level=warn >"$dir/etcd.log" 2>&1 &
	apiserver_pids+=($!)
	# A /16 of Service IPs: the synthetic repository has more Services than
	# a /24 holds.
	"$bin/kube-apiserver" --etcd-servers="http://127.0.0.1:$etcd_port" --cert-dir="$dir/certs" \
		--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="$dir/sa.key" --service-account-signing-key-file="$dir/sa.key" \
		--token-auth-file="$dir/tokens.csv" --authorization-mode=RBAC --service-cluster-ip-range=10.96.0.0/16 \
		--endpoint-reconciler-type=none >"$dir/apiserver.log" 2>&1 &
	apiserver_pids+=($!)
	for i in $(seq 120); do
		if curl -skf -H "Authorization: Bearer $apiserver_token" "$apiserver_url/readyz" >/dev/null 2>&1; then
			break
		fi
		[[ $i == 120 ]] && die "kube-apiserver not ready after 60s: $(tail -5 "$dir/apiserver.log")"
		sleep 0.5
	done
	cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: bench
    cluster: {server: "$apiserver_url", insecure-skip-tls-verify: true}
users:
  - name: bench
    user: {token: "$apiserver_token"}
contexts:
  - name: bench
    context: {cluster: bench, user: bench, namespace: default}
current-context: bench
EOF
}

# The apiserver first (it waits on etcd while it shuts down), then etcd.
apiserver_stop() {
	local i
	for ((i = ${#apiserver_pids[@]} - 1; i >= 0; i--)); do
		apiserver_stop_pid "${apiserver_pids[i]}"
	done
	apiserver_pids=()
}

# apiserver_stop_pid PID: SIGTERM, ten seconds' grace, then SIGKILL.
apiserver_stop_pid() {
	local i
	kill "$1" 2>/dev/null || return 0
	for i in $(seq 20); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.5
	done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
