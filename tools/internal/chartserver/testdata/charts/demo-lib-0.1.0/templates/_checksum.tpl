{{/*
demo-lib.checksum renders the sha256 of another template of the calling
chart, so pods roll when that template's output changes.
Takes a dict: root (the caller's top-level context) and template (a path
under the caller's templates/ directory).
  checksum/config: {{ include "demo-lib.checksum" (dict "root" $ "template" "configmap.yaml") }}
*/}}
{{- define "demo-lib.checksum" -}}
{{- include (print .root.Template.BasePath "/" .template) .root | sha256sum -}}
{{- end }}
