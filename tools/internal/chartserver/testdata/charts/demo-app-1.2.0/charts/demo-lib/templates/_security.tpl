{{/*
demo-lib.podSecurityContext renders a restricted pod securityContext.
Takes a dict: runAsUser (default 65532).
  securityContext:
    {{- include "demo-lib.podSecurityContext" (dict "runAsUser" 10001) | nindent 4 }}
*/}}
{{- define "demo-lib.podSecurityContext" -}}
{{- $uid := .runAsUser | default 65532 -}}
runAsNonRoot: true
runAsUser: {{ $uid }}
runAsGroup: {{ $uid }}
fsGroup: {{ $uid }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
demo-lib.containerSecurityContext renders a restricted container
securityContext. Takes no parameters; pass any value, e.g. ".".
*/}}
{{- define "demo-lib.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
{{- end }}
