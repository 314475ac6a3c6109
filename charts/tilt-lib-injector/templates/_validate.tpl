{{/*
The rules of `webhook serve` (pkg/config's Rules) that values.schema.json cannot say: compared
durations, relations between values, and the IP-address and label-selector grammars (as schema
patterns they would print KBs of regex in helm's error). Each fails rendering with the binary's own
words, after the value's name and what was given. hack/charttest walks pkg/config.Rules against
real helm (TestChartRefusesWhatTheBinaryRefuses) and holds the two patterns below to net.ParseIP
and labels.Parse (TestPatternsAreTheBinarysParsers).
*/}}
{{- define "tli.validate" -}}
{{- $v := .Values -}}
{{- $rt := include "tli.seconds" $v.requestTimeout | float64 -}}
{{- if not (and (gt $rt 0.0) (le $rt 30.0)) -}}
{{- fail (printf "requestTimeout %s (--request-timeout): must be positive and at most 30s (the API server waits at most 30s for a webhook)" $v.requestTimeout) -}}
{{- end -}}
{{- $brt := include "tli.seconds" $v.bodyReadTimeout | float64 -}}
{{- if not (and (gt $brt 0.0) (le $brt $rt)) -}}
{{- fail (printf "bodyReadTimeout %s (--body-read-timeout): must be positive and at most --request-timeout (requestTimeout %s)" $v.bodyReadTimeout $v.requestTimeout) -}}
{{- end -}}
{{- if not (include "tli.filesMode" .) -}}
{{- $cert := include "tli.seconds" $v.certs.self.certLifetime | float64 -}}
{{- $ca := include "tli.seconds" $v.certs.self.caLifetime | float64 -}}
{{- if not (and (ge $cert 5.0) (le $cert (divf $ca 4))) -}}
{{- fail (printf "certs.self.certLifetime %s and certs.self.caLifetime %s (--cert-lifetime, --ca-lifetime): the certificate must last at least 5s and at most a quarter of the CA" $v.certs.self.certLifetime $v.certs.self.caLifetime) -}}
{{- end -}}
{{- end -}}
{{- if not (regexMatch (include "tli.ipPattern" .) $v.webhook.bindAddress) -}}
{{- fail (printf "webhook.bindAddress %q (--bind-address): must be an IP address" $v.webhook.bindAddress) -}}
{{- end -}}
{{- if not (regexMatch (include "tli.selectorPattern" .) $v.configMapSelector) -}}
{{- fail (printf "configMapSelector %q (--configmap-selector): not a label selector (comma-separated key, !key, key=value, key==value, key!=value, key in (v1,v2), key notin (v1,v2), key>n or key<n, with keys and values as Kubernetes labels have them)" $v.configMapSelector) -}}
{{- end -}}
{{- /* labels.Parse also bounds a key's DNS prefix to 253 characters, which the patterns cannot count. */ -}}
{{- range $prefix := regexFindAll "[a-z0-9.-]+/" $v.configMapSelector -1 -}}
{{- if gt (len $prefix) 254 -}}
{{- fail (printf "configMapSelector %q (--configmap-selector): not a label selector (a key's prefix is longer than 253 characters)" $v.configMapSelector) -}}
{{- end -}}
{{- end -}}
{{- $selectorKeys := keys ($v.workspaceSelector.matchLabels | default dict) -}}
{{- range $e := ($v.workspaceSelector.matchExpressions | default list) -}}
{{- $selectorKeys = append $selectorKeys $e.key -}}
{{- end -}}
{{- range $k := $selectorKeys -}}
{{- if and (contains "/" $k) (gt (len (regexReplaceAll "/.*$" $k "")) 253) -}}
{{- fail (printf "workspaceSelector key %q (--workspace-selector): not a label selector (a key's prefix is longer than 253 characters)" $k) -}}
{{- end -}}
{{- end -}}
{{- /* pkg/mutate's Options.Validate, in its words. */ -}}
{{- if ne $v.envbox "off" -}}
{{- range $pair := list (list "libMountPath" "lib" $v.libMountPath) (list "templatesMountPath" "templates" $v.templatesMountPath) -}}
{{- if regexMatch "[,:]" (index $pair 2) -}}
{{- fail (printf "%s %q: --%s-mount-path %q holds ',' or ':', which CODER_MOUNTS cannot list; use another path or --envbox=off (envbox %q)" (index $pair 0) (index $pair 2) (index $pair 1) (index $pair 2) $v.envbox) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if eq $v.libMountPath $v.templatesMountPath -}}
{{- fail (printf "templatesMountPath %q: --templates-mount-path %q is also the lib mount path" $v.templatesMountPath $v.templatesMountPath) -}}
{{- end -}}
{{- if eq $v.libConfigMap $v.templatesConfigMap -}}
{{- fail (printf "libConfigMap and templatesConfigMap %q: --lib-configmap and --templates-configmap are both %q" $v.libConfigMap $v.libConfigMap) -}}
{{- end -}}
{{- range $pair := list (list $v.libConfigMap $v.templatesConfigMap "libConfigMap") (list $v.templatesConfigMap $v.libConfigMap "templatesConfigMap") -}}
{{- $a := index $pair 0 -}}{{- $b := index $pair 1 -}}
{{- if hasPrefix (printf "%s-" $a) $b -}}
{{- fail (printf "%s %q: ConfigMap base names %q and %q overlap: a version of %q would name a ConfigMap of %q" (index $pair 2) $a $a $b $a $b) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A Go duration ("1h30m", "1.5s", "300ms"; the schema checks its form) in seconds, as a float. */}}
{{- define "tli.seconds" -}}
{{- $unit := dict "ns" 0.000000001 "us" 0.000001 "µs" 0.000001 "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0 -}}
{{- $total := 0.0 -}}
{{- range regexFindAll "[0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h)" (toString .) -1 -}}
{{- $u := regexFind "(ns|us|µs|ms|s|m|h)$" . -}}
{{- $total = addf $total (mulf (trimSuffix $u . | float64) (get $unit $u)) -}}
{{- end -}}
{{- $total -}}
{{- end -}}

{{/* net.ParseIP's grammar (IPv4 without leading zeros; IPv6 with :: and an embedded IPv4), or empty. */}}
{{- define "tli.ipPattern" -}}
^(|(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){6}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|::|::[0-9A-Fa-f]{1,4}|::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}|::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){2}|::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){3}|::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){4}|::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){5}|::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){6}|[0-9A-Fa-f]{1,4}::|[0-9A-Fa-f]{1,4}::[0-9A-Fa-f]{1,4}|[0-9A-Fa-f]{1,4}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}|[0-9A-Fa-f]{1,4}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){2}|[0-9A-Fa-f]{1,4}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){3}|[0-9A-Fa-f]{1,4}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){4}|[0-9A-Fa-f]{1,4}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){5}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}::|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}::[0-9A-Fa-f]{1,4}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){2}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){3}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){4}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){2}::|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){2}::[0-9A-Fa-f]{1,4}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){2}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){2}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){2}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){2}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){3}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){3}::|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){3}::[0-9A-Fa-f]{1,4}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){3}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){3}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){2}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){4}::|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){4}::[0-9A-Fa-f]{1,4}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){4}::[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){5}::|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){5}::[0-9A-Fa-f]{1,4}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){6}::|::(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|::([0-9A-Fa-f]{1,4}:){1}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|::([0-9A-Fa-f]{1,4}:){2}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|::([0-9A-Fa-f]{1,4}:){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|::([0-9A-Fa-f]{1,4}:){4}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|::([0-9A-Fa-f]{1,4}:){5}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}::(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4}:){1}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4}:){2}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4}:){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4}:){4}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}::(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}::([0-9A-Fa-f]{1,4}:){1}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}::([0-9A-Fa-f]{1,4}:){2}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){1}::([0-9A-Fa-f]{1,4}:){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){2}::(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){2}::([0-9A-Fa-f]{1,4}:){1}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){2}::([0-9A-Fa-f]{1,4}:){2}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){3}::(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){3}::([0-9A-Fa-f]{1,4}:){1}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){4}::(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3})$
{{- end -}}

{{/* labels.Parse's grammar (k8s.io/apimachinery/pkg/labels): qualified-name keys (names up to 63
characters), label values, integers up to 18 digits for > and <. */}}
{{- define "tli.selectorPattern" -}}
^([ \t\r\n]*|[ \t\r\n]*(![ \t\r\n]*([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?|([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?([ \t\r\n]*(=|==|!=)[ \t\r\n]*([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?|[ \t\r\n]*[<>][ \t\r\n]*[0-9]{1,18}|[ \t\r\n]+(in|notin)[ \t\r\n]*\([ \t\r\n]*([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?([ \t\r\n]*,[ \t\r\n]*([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)*[ \t\r\n]*\))?)[ \t\r\n]*(,[ \t\r\n]*(![ \t\r\n]*([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?|([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?([ \t\r\n]*(=|==|!=)[ \t\r\n]*([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?|[ \t\r\n]*[<>][ \t\r\n]*[0-9]{1,18}|[ \t\r\n]+(in|notin)[ \t\r\n]*\([ \t\r\n]*([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?([ \t\r\n]*,[ \t\r\n]*([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)*[ \t\r\n]*\))?)[ \t\r\n]*)*)$
{{- end -}}
