{{/* Full name: the release name, with the chart name appended unless already in it. */}}
{{- define "tli.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tli.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tli.labels" -}}
{{ include "tli.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "tli.serviceAccountName" -}}
{{- default (include "tli.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* The Secret holding the serving certificate, whatever the mode. */}}
{{- define "tli.certSecretName" -}}
{{- if eq .Values.certs.mode "existingSecret" -}}
{{- required "certs.existingSecret.name is required when certs.mode is existingSecret" .Values.certs.existingSecret.name -}}
{{- else -}}
{{- default (printf "%s-certs" (include "tli.fullname" .)) .Values.certs.secretName -}}
{{- end -}}
{{- end -}}

{{/*
workspaceSelector as a label-selector string (--workspace-selector), from the same value the webhook's
objectSelector is rendered from: matchLabels k=v, then In/NotIn/Exists/DoesNotExist expressions.
*/}}
{{- define "tli.workspaceSelectorString" -}}
{{- $parts := list -}}
{{- $ml := .Values.workspaceSelector.matchLabels | default dict -}}
{{- range $k := keys $ml | sortAlpha -}}
{{- $parts = append $parts (printf "%s=%s" $k (get $ml $k)) -}}
{{- end -}}
{{- range .Values.workspaceSelector.matchExpressions -}}
{{- if eq .operator "In" -}}
{{- $parts = append $parts (printf "%s in (%s)" .key (join "," .values)) -}}
{{- else if eq .operator "NotIn" -}}
{{- $parts = append $parts (printf "%s notin (%s)" .key (join "," .values)) -}}
{{- else if eq .operator "Exists" -}}
{{- $parts = append $parts .key -}}
{{- else if eq .operator "DoesNotExist" -}}
{{- $parts = append $parts (printf "!%s" .key) -}}
{{- end -}}
{{- end -}}
{{- join "," $parts -}}
{{- end -}}

{{/* resources.limits.memory in bytes (Ki, Mi, Gi or plain bytes); 0 without a limit. */}}
{{- define "tli.memoryLimitBytes" -}}
{{- $m := toString (.Values.resources.limits.memory | default "0") -}}
{{- $bytes := 0 -}}
{{- if hasSuffix "Gi" $m -}}{{- $bytes = mul (trimSuffix "Gi" $m | int64) 1073741824 -}}
{{- else if hasSuffix "Mi" $m -}}{{- $bytes = mul (trimSuffix "Mi" $m | int64) 1048576 -}}
{{- else if hasSuffix "Ki" $m -}}{{- $bytes = mul (trimSuffix "Ki" $m | int64) 1024 -}}
{{- else -}}{{- $bytes = $m | int64 -}}
{{- end -}}
{{- $bytes -}}
{{- end -}}

{{/* 90% of resources.limits.memory in bytes (GOMEMLIMIT): headroom for what the Go runtime does not count. */}}
{{- define "tli.goMemLimit" -}}
{{- div (mul (include "tli.memoryLimitBytes" . | int64) 9) 10 -}}
{{- end -}}

{{/* --max-body-bytes-in-flight: the value, else a sixteenth of the memory limit (at least the binary's
minimum, 6 MiB, at most its maximum, 4 GiB: limits above 64Gi), else the binary's default (16 MiB). */}}
{{- define "tli.maxBodyBytesInFlight" -}}
{{- $limit := include "tli.memoryLimitBytes" . | int64 -}}
{{- if .Values.maxBodyBytesInFlight -}}{{- .Values.maxBodyBytesInFlight | int64 -}}
{{- else if $limit -}}{{- min (max (div $limit 16) 6291456) 4294967296 -}}
{{- else -}}16777216
{{- end -}}
{{- end -}}

{{/* Files mode: the serving certificate comes from a mounted Secret. */}}
{{- define "tli.filesMode" -}}
{{- if ne .Values.certs.mode "self" -}}true{{- end -}}
{{- end -}}

{{/* Labels of one alert: (list severity extraLabels). The severity wins over an extra label of that name. */}}
{{- define "tli.alertLabels" -}}
{{- $labels := merge (dict "severity" (index . 0)) (index . 1 | default dict) -}}
{{- toYaml $labels -}}
{{- end -}}

{{/* Secure metrics: HTTPS and token review, only when there is a metrics endpoint at all. */}}
{{- define "tli.metricsSecure" -}}
{{- if and .Values.metrics.enabled .Values.metrics.secure -}}true{{- end -}}
{{- end -}}

{{/*
(list $ Kind value): fail unless the cluster serves monitoring.coreos.com/v1 Kind, with a sentence
saying what to install or which value to turn off, instead of helm's raw `no matches for kind`.
helm template knows no cluster: it takes the API from --api-versions, as Argo CD passes it.
*/}}
{{- define "tli.requireAPI" -}}
{{- $ := index . 0 -}}{{- $kind := index . 1 -}}{{- $value := index . 2 -}}
{{- if not ($.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" $kind)) -}}
{{- fail (printf "%s=true needs the prometheus-operator CRDs, and this cluster does not serve monitoring.coreos.com/v1 %s: install prometheus-operator (or kube-prometheus-stack) first, or set %s=false. With helm template, pass --api-versions monitoring.coreos.com/v1/%s." $value $kind $value $kind) -}}
{{- end -}}
{{- end -}}
