#!/usr/bin/env bash
# Bootstraps one environment of the stack on AKS Standard (docs/stack.md).
#
#   scripts/bootstrap-aks.sh infra ENV   cluster, Key Vault, identities, generated secrets;
#                                        prints the values to commit in clusters/ENV/cluster-vars.yaml
#   scripts/bootstrap-aks.sh flux ENV    the microsoft.flux extension (helm-controller on) and the
#                                        fluxConfiguration "flux-system" pointing at ./clusters/ENV
#
# Run `infra`, commit the printed cluster-vars values, then run `flux`: Flux must
# not start before cluster-vars names the right vault and identity.
#
# Settings (environment variables, defaults in brackets):
#   LOCATION [westeurope]  RESOURCE_GROUP [rg-aks-gitops-ENV]  CLUSTER_NAME [aks-gitops-ENV]
#   KEY_VAULT_NAME [kv-aks-gitops-ENV]  NODE_COUNT [3]  NODE_VM_SIZE [Standard_D4ds_v5]
#   GIT_URL [origin's URL]  GIT_BRANCH [main]
#   ALLOWED_CIDRS [this machine's public address/32]  comma-separated; the only sources
#                             that reach the API server, the Key Vault and the load balancer
#                             (printed as LB_SOURCE_RANGES for cluster-vars)
#   ADMIN_GROUP_ID            Entra ID group made cluster admin (Azure RBAC); without it, the
#                             signed-in user is
#   ALERTMANAGER_WEBHOOK_URL  receiver for security alerts (default: a sink that drops them)
#   ALERTMANAGER_PLATFORM_WEBHOOK_URL, ALERTMANAGER_HEARTBEAT_WEBHOOK_URL
#                             receivers for platform alerts and the Watchdog heartbeat (same default)
#   LOG_ANALYTICS [true for production]  create workspace, DCE, DCR and a writer principal
#   GITHUB_TOKEN              fine-grained token with "Commit statuses: read and write" on the
#                             repository, stored as flux-github-token for Flux's commit statuses
#                             (without it, the flux-notifications Kustomization waits for it)
#
# Hardened by default: Entra ID authentication with Azure RBAC and no local
# accounts (no static admin kubeconfig), the API server reachable from
# ALLOWED_CIDRS only, a Key Vault with purge protection that denies every
# network but ALLOWED_CIDRS and the cluster's outbound addresses, and every
# secret the stack reads generated in it (crAPI's JWKS included).
#
# Idempotent: existing resources are kept (and brought to these settings), and
# a secret already in the vault is never regenerated. Needs the Azure CLI
# (logged in), openssl, curl and the k8s-extension and k8s-configuration CLI
# extensions (installed on demand).
set -euo pipefail

usage() {
	echo "usage: $0 infra|flux staging|production" >&2
	exit 2
}

[[ $# -eq 2 ]] || usage
phase=$1
env=$2
case $env in
staging | production) ;;
*) usage ;;
esac

LOCATION=${LOCATION:-westeurope}
RESOURCE_GROUP=${RESOURCE_GROUP:-rg-aks-gitops-$env}
CLUSTER_NAME=${CLUSTER_NAME:-aks-gitops-$env}
KEY_VAULT_NAME=${KEY_VAULT_NAME:-kv-aks-gitops-$env}
NODE_COUNT=${NODE_COUNT:-3}
NODE_VM_SIZE=${NODE_VM_SIZE:-Standard_D4ds_v5}
GIT_BRANCH=${GIT_BRANCH:-main}
default_la=false
[[ $env == production ]] && default_la=true
LOG_ANALYTICS=${LOG_ANALYTICS:-$default_la}
ADMIN_GROUP_ID=${ADMIN_GROUP_ID:-}

log() { printf 'bootstrap-aks: %s\n' "$*" >&2; }

# allowed_cidrs prints ALLOWED_CIDRS, or this machine's public address as a
# /32 (asked of api.ipify.org) when it is not set.
allowed_cidrs() {
	if [[ -n ${ALLOWED_CIDRS:-} ]]; then
		printf '%s\n' "$ALLOWED_CIDRS"
		return
	fi
	local ip
	if ! ip=$(curl -fsS --max-time 10 https://api.ipify.org) || [[ ! $ip =~ ^[0-9]+(\.[0-9]+){3}$ ]]; then
		log "could not find this machine's public address; set ALLOWED_CIDRS (comma-separated CIDRs)"
		return 1
	fi
	printf '%s/32\n' "$ip"
}

# jwks prints a JWK set holding one new 2048-bit RSA signing key, private
# parts included (crAPI's identity service signs its tokens with it), made
# with openssl alone.
jwks() {
	local text kid
	text=$(openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -noout -text)
	# b64url FIELD: the integer openssl prints as colon-separated hex under
	# "FIELD:", minimal big-endian bytes (no leading zeros), base64url.
	b64url() {
		local hex bytes="" i
		hex=$(awk -v f="$1:" '$1 == f { on = 1; next } on && /^[^ ]/ { on = 0 } on { gsub(/[ :]/, ""); printf "%s", $0 }' <<<"$text")
		hex=${hex#"${hex%%[!0]*}"}
		((${#hex} % 2 == 0)) || hex=0$hex
		for ((i = 0; i < ${#hex}; i += 2)); do
			bytes+="\\x${hex:i:2}"
		done
		printf '%b' "$bytes" | openssl base64 -A | tr '+/' '-_' | tr -d '='
	}
	kid=$(openssl rand -hex 8)
	printf '{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"%s","e":"AQAB","n":"%s","d":"%s","p":"%s","q":"%s","dp":"%s","dq":"%s","qi":"%s"}]}\n' \
		"$kid" "$(b64url modulus)" "$(b64url privateExponent)" "$(b64url prime1)" "$(b64url prime2)" \
		"$(b64url exponent1)" "$(b64url exponent2)" "$(b64url coefficient)"
}

# random_password prints 32 alphanumeric characters (crAPI embeds some
# passwords in URIs, so no symbols).
random_password() {
	openssl rand -base64 48 | tr -dc 'A-Za-z0-9' | head -c 32
}

# vault_secret NAME VALUE stores VALUE unless NAME already exists.
vault_secret() {
	local name=$1 value=$2
	if az keyvault secret show --vault-name "$KEY_VAULT_NAME" --name "$name" --query id -o tsv >/dev/null 2>&1; then
		log "secret $name exists, kept"
		return
	fi
	az keyvault secret set --vault-name "$KEY_VAULT_NAME" --name "$name" --value "$value" --output none
	log "secret $name generated"
}

# htpasswd_sha USER PASSWORD prints an htpasswd {SHA} line, the only scheme
# Envoy's basic auth accepts.
htpasswd_sha() {
	printf '%s:{SHA}%s' "$1" "$(printf '%s' "$2" | openssl dgst -sha1 -binary | openssl base64 -A)"
}

infra() {
	local cidrs
	cidrs=$(allowed_cidrs)
	log "allowed sources: $cidrs"
	log "resource group $RESOURCE_GROUP in $LOCATION"
	az group create --name "$RESOURCE_GROUP" --location "$LOCATION" --output none

	if ! az aks show -g "$RESOURCE_GROUP" -n "$CLUSTER_NAME" --query id -o tsv >/dev/null 2>&1; then
		# AKS Standard (AKS Automatic's admission policies break the Flux
		# extension). OIDC issuer + workload identity for External Secrets;
		# Cilium enforces our NetworkPolicies. No azure-policy add-on: it is
		# Gatekeeper, and the stack installs its own.
		log "creating cluster $CLUSTER_NAME"
		az aks create -g "$RESOURCE_GROUP" -n "$CLUSTER_NAME" \
			--tier standard \
			--node-count "$NODE_COUNT" --node-vm-size "$NODE_VM_SIZE" \
			--zones 1 2 3 \
			--network-plugin azure --network-plugin-mode overlay --network-dataplane cilium \
			--enable-oidc-issuer --enable-workload-identity \
			--enable-aad --enable-azure-rbac --disable-local-accounts \
			--api-server-authorized-ip-ranges "$cidrs" \
			--generate-ssh-keys --output none
	else
		# An existing cluster is brought to the same settings.
		az aks update -g "$RESOURCE_GROUP" -n "$CLUSTER_NAME" \
			--enable-aad --enable-azure-rbac --disable-local-accounts \
			--api-server-authorized-ip-ranges "$cidrs" --output none
	fi
	# Who administers the cluster through Azure RBAC (no local admin exists).
	local cluster_id admin=(--assignee-object-id "$(az ad signed-in-user show --query id -o tsv)" --assignee-principal-type User)
	cluster_id=$(az aks show -g "$RESOURCE_GROUP" -n "$CLUSTER_NAME" --query id -o tsv)
	[[ -z $ADMIN_GROUP_ID ]] || admin=(--assignee-object-id "$ADMIN_GROUP_ID" --assignee-principal-type Group)
	az role assignment create "${admin[@]}" --role "Azure Kubernetes Service RBAC Cluster Admin" \
		--scope "$cluster_id" --output none
	# An existing cluster may run the Azure Policy add-on (Gatekeeper in
	# gatekeeper-system): a second Gatekeeper is unsupported, turn it off.
	if [[ $(az aks show -g "$RESOURCE_GROUP" -n "$CLUSTER_NAME" --query 'addonProfiles.azurepolicy.enabled' -o tsv 2>/dev/null) == true ]]; then
		log "disabling the azure-policy add-on"
		az aks disable-addons -g "$RESOURCE_GROUP" -n "$CLUSTER_NAME" --addons azure-policy --output none
	fi
	local issuer tenant
	issuer=$(az aks show -g "$RESOURCE_GROUP" -n "$CLUSTER_NAME" --query oidcIssuerProfile.issuerUrl -o tsv)
	tenant=$(az account show --query tenantId -o tsv)

	log "key vault $KEY_VAULT_NAME (RBAC authorization, purge protection, network rules)"
	if ! az keyvault show -n "$KEY_VAULT_NAME" --query id -o tsv >/dev/null 2>&1; then
		az keyvault create -g "$RESOURCE_GROUP" -n "$KEY_VAULT_NAME" --location "$LOCATION" \
			--enable-rbac-authorization true --enable-purge-protection true --retention-days 90 \
			--output none
	fi
	# Reachable from the allowed sources (this script seeds it) and from the
	# cluster's outbound addresses (External Secrets), nothing else. The
	# rules go in before the default action turns to Deny.
	local source outbound=()
	mapfile -t outbound < <(az aks show -g "$RESOURCE_GROUP" -n "$CLUSTER_NAME" \
		--query 'networkProfile.loadBalancerProfile.effectiveOutboundIPs[].id' -o tsv |
		xargs -r -n1 az network public-ip show --query ipAddress -o tsv --ids)
	for source in ${cidrs//,/ } "${outbound[@]}"; do
		az keyvault network-rule add -n "$KEY_VAULT_NAME" --ip-address "$source" --output none
	done
	az keyvault update -n "$KEY_VAULT_NAME" --enable-purge-protection true \
		--default-action Deny --bypass AzureServices --output none
	local vault_id me
	vault_id=$(az keyvault show -n "$KEY_VAULT_NAME" --query id -o tsv)
	me=$(az ad signed-in-user show --query id -o tsv)
	az role assignment create --assignee-object-id "$me" --assignee-principal-type User \
		--role "Key Vault Secrets Officer" --scope "$vault_id" --output none 2>/dev/null || true

	log "workload identity for External Secrets"
	az identity create -g "$RESOURCE_GROUP" -n id-external-secrets --output none
	local eso_client eso_principal
	eso_client=$(az identity show -g "$RESOURCE_GROUP" -n id-external-secrets --query clientId -o tsv)
	eso_principal=$(az identity show -g "$RESOURCE_GROUP" -n id-external-secrets --query principalId -o tsv)
	az identity federated-credential create -g "$RESOURCE_GROUP" --identity-name id-external-secrets \
		--name external-secrets --issuer "$issuer" \
		--subject system:serviceaccount:external-secrets:external-secrets \
		--audiences api://AzureADTokenExchange --output none
	az role assignment create --assignee-object-id "$eso_principal" --assignee-principal-type ServicePrincipal \
		--role "Key Vault Secrets User" --scope "$vault_id" --output none

	log "generated credentials (existing ones kept)"
	vault_secret grafana-admin-password "$(random_password)"
	vault_secret falcosidekick-ui-password "$(random_password)"
	vault_secret falcosidekick-ui-redis-password "$(random_password)"
	vault_secret elasticsearch-fluent-bit-password "$(random_password)"
	# The UIs behind the Gateway's basic auth: a password for humans and its
	# htpasswd line for Envoy, made together.
	local ui password
	for ui in alertmanager gatekeeper-policy-manager; do
		if ! az keyvault secret show --vault-name "$KEY_VAULT_NAME" --name "$ui-htpasswd" --query id -o tsv >/dev/null 2>&1; then
			password=$(random_password)
			vault_secret "$ui-password" "$password"
			vault_secret "$ui-htpasswd" "$(htpasswd_sha admin "$password")"
		fi
	done
	# Without a receiver, alerts go to a sink that drops them (security:
	# our Falco and crAPI alerts; platform: everything else; heartbeat:
	# Watchdog, every minute, for a dead man's switch).
	vault_secret alertmanager-security-webhook-url "${ALERTMANAGER_WEBHOOK_URL:-http://127.0.0.1:9/dropped}"
	vault_secret alertmanager-platform-webhook-url "${ALERTMANAGER_PLATFORM_WEBHOOK_URL:-http://127.0.0.1:9/dropped}"
	vault_secret alertmanager-heartbeat-webhook-url "${ALERTMANAGER_HEARTBEAT_WEBHOOK_URL:-http://127.0.0.1:9/dropped}"
	# crAPI (apps/base/crapi/external-secrets.yaml; crapi-jwks: see docs/crapi.md).
	vault_secret crapi-postgres-password "$(random_password)"
	vault_secret crapi-mongo-password "$(random_password)"
	vault_secret crapi-jwt-secret "$(random_password)"
	vault_secret crapi-workshop-secret-key "$(random_password)"
	vault_secret crapi-jwks "$(jwks)"
	# The one secret that cannot be generated (infrastructure/notifications).
	if [[ -n ${GITHUB_TOKEN:-} ]]; then
		vault_secret flux-github-token "$GITHUB_TOKEN"
	elif ! az keyvault secret show --vault-name "$KEY_VAULT_NAME" --name flux-github-token --query id -o tsv >/dev/null 2>&1; then
		log "no GITHUB_TOKEN: Flux's commit statuses wait for the secret flux-github-token in $KEY_VAULT_NAME"
	fi

	local dce_url="" dcr_id=""
	if [[ $LOG_ANALYTICS == true ]]; then
		log_analytics "$tenant"
		dce_url=$(az monitor data-collection endpoint show -g "$RESOURCE_GROUP" -n "dce-$CLUSTER_NAME" --query logsIngestion.endpoint -o tsv)
		dcr_id=$(az monitor data-collection rule show -g "$RESOURCE_GROUP" -n "dcr-$CLUSTER_NAME" --query immutableId -o tsv)
	fi

	# The repository as GitHub names it, for commit statuses.
	local repo_url=${GIT_URL:-$(git config --get remote.origin.url)}
	repo_url=${repo_url%.git}
	repo_url=${repo_url/#git@github.com:/https://github.com/}
	repo_url=${repo_url/#ssh:\/\/git@github.com\//https://github.com/}

	cat <<EOF

Commit these values in clusters/$env/cluster-vars.yaml, then run: $0 flux $env
  CLUSTER_NAME: $CLUSTER_NAME
  AZURE_REGION: $LOCATION
  AZURE_TENANT_ID: $tenant
  KEY_VAULT_NAME: $KEY_VAULT_NAME
  ESO_CLIENT_ID: $eso_client
  LB_SOURCE_RANGES: $cidrs
  GITHUB_REPOSITORY_URL: $repo_url
EOF
	if [[ $LOG_ANALYTICS == true ]]; then
		cat <<EOF
  LOG_ANALYTICS_DCE_URL: $dce_url
  LOG_ANALYTICS_DCR_ID: $dcr_id
  LOG_ANALYTICS_TABLE: AksGitopsLogs_CL
EOF
	fi
}

# log_analytics TENANT creates the workspace, the custom table, a data
# collection endpoint and rule, and a service principal allowed to publish
# to the rule (the pinned Fluent Bit's azure_logs_ingestion output has no
# workload identity); its credentials go to the vault.
log_analytics() {
	local workspace="log-$CLUSTER_NAME" table=AksGitopsLogs_CL
	log "log analytics workspace $workspace"
	az monitor log-analytics workspace create -g "$RESOURCE_GROUP" -n "$workspace" --location "$LOCATION" --output none
	local workspace_id
	workspace_id=$(az monitor log-analytics workspace show -g "$RESOURCE_GROUP" -n "$workspace" --query id -o tsv)
	az monitor log-analytics workspace table create -g "$RESOURCE_GROUP" --workspace-name "$workspace" \
		-n "$table" --columns TimeGenerated=datetime log=string kubernetes=dynamic output=string rule=string \
		priority=string source=string output_fields=dynamic --output none 2>/dev/null || true
	az monitor data-collection endpoint create -g "$RESOURCE_GROUP" -n "dce-$CLUSTER_NAME" --location "$LOCATION" \
		--public-network-access Enabled --output none
	local dce_id rule_file
	dce_id=$(az monitor data-collection endpoint show -g "$RESOURCE_GROUP" -n "dce-$CLUSTER_NAME" --query id -o tsv)
	rule_file=$(mktemp)
	cat >"$rule_file" <<EOF
{
  "location": "$LOCATION",
  "properties": {
    "dataCollectionEndpointId": "$dce_id",
    "streamDeclarations": {
      "Custom-$table": {
        "columns": [
          {"name": "TimeGenerated", "type": "datetime"},
          {"name": "log", "type": "string"},
          {"name": "kubernetes", "type": "dynamic"},
          {"name": "output", "type": "string"},
          {"name": "rule", "type": "string"},
          {"name": "priority", "type": "string"},
          {"name": "source", "type": "string"},
          {"name": "output_fields", "type": "dynamic"}
        ]
      }
    },
    "destinations": {"logAnalytics": [{"workspaceResourceId": "$workspace_id", "name": "workspace"}]},
    "dataFlows": [{"streams": ["Custom-$table"], "destinations": ["workspace"], "outputStream": "Custom-$table"}]
  }
}
EOF
	az monitor data-collection rule create -g "$RESOURCE_GROUP" -n "dcr-$CLUSTER_NAME" --location "$LOCATION" \
		--rule-file "$rule_file" --output none
	rm -f "$rule_file"
	local dcr_id app_id secret
	dcr_id=$(az monitor data-collection rule show -g "$RESOURCE_GROUP" -n "dcr-$CLUSTER_NAME" --query id -o tsv)
	if ! az keyvault secret show --vault-name "$KEY_VAULT_NAME" --name log-analytics-client-secret --query id -o tsv >/dev/null 2>&1; then
		app_id=$(az ad sp create-for-rbac --name "sp-$CLUSTER_NAME-logs" --role "Monitoring Metrics Publisher" \
			--scopes "$dcr_id" --query appId -o tsv)
		secret=$(az ad sp credential reset --id "$app_id" --query password -o tsv)
		vault_secret log-analytics-client-id "$app_id"
		vault_secret log-analytics-client-secret "$secret"
	fi
}

flux() {
	az extension add --upgrade --name k8s-extension --output none
	az extension add --upgrade --name k8s-configuration --output none
	local url=${GIT_URL:-$(git config --get remote.origin.url)}

	# The extension enforces multi-tenancy (multiTenancy.enforce, kept on):
	# no cross-namespace source references (every chart source sits in its
	# release's namespace), and helm-controller installs each release as the
	# ServiceAccount flux-applier of the release's namespace, which the
	# repository creates there (infrastructure/components/helm-release).
	log "microsoft.flux extension with the helm-controller"
	if ! az k8s-extension show -g "$RESOURCE_GROUP" -c "$CLUSTER_NAME" -t managedClusters -n flux --query id -o tsv >/dev/null 2>&1; then
		az k8s-extension create -g "$RESOURCE_GROUP" -c "$CLUSTER_NAME" -t managedClusters \
			--name flux --extension-type microsoft.flux \
			--config helm-controller.enabled=true source-controller.enabled=true \
			kustomize-controller.enabled=true notification-controller.enabled=true \
			--output none
	fi

	# Named flux-system, so the GitRepository is flux-system/flux-system as with
	# `flux bootstrap`; its one Kustomization applies ./clusters/ENV, whose
	# Kustomizations do the rest.
	log "fluxConfiguration flux-system → $url ($GIT_BRANCH) ./clusters/$env"
	az k8s-configuration flux create -g "$RESOURCE_GROUP" -c "$CLUSTER_NAME" -t managedClusters \
		--name flux-system --namespace flux-system --scope cluster \
		--url "$url" --branch "$GIT_BRANCH" \
		--kustomization name=cluster path="./clusters/$env" prune=true \
		--output none
	log "follow with: kubectl get kustomizations -n flux-system -w"
}

case $phase in
infra) infra ;;
flux) flux ;;
*) usage ;;
esac
