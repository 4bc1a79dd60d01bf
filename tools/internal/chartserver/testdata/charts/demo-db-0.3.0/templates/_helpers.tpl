{{/*
demo-db.fullname prefixes every object name with the release name.
*/}}
{{- define "demo-db.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
demo-db.selectorLabels select the StatefulSet's pods.
*/}}
{{- define "demo-db.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
demo-db.labels go on every object.
*/}}
{{- define "demo-db.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{ include "demo-db.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: database
{{- end }}

{{/*
demo-db.secretName is the name of the credentials Secret.
*/}}
{{- define "demo-db.secretName" -}}
{{ include "demo-db.fullname" . }}-credentials
{{- end }}
