package charttest

import (
	"strings"
	"testing"
)

// TestSchemaRejects: values.schema.json refuses each bad value, and the message names the value.
func TestSchemaRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string // the path helm's message must name
	}{
		{"failurePolicy not Ignore/Fail", []string{"--set", "webhook.failurePolicy=Never"}, "/webhook/failurePolicy"},
		{"timeout above the API server's 30s", []string{"--set", "webhook.timeoutSeconds=31"}, "/webhook/timeoutSeconds"},
		{"unknown cert mode", []string{"--set", "certs.mode=vault"}, "/certs/mode"},
		{"existingSecret without its Secret and CA", []string{"--set", "certs.mode=existingSecret"}, "/certs/existingSecret/name"},
		{"networkPolicy on with nobody allowed", []string{"--set", "networkPolicy.enabled=true"}, "/networkPolicy/from"},
		{"empty workspace selector", []string{"--set", "workspaceSelector.matchLabels=null"}, "/workspaceSelector"},
		{"In without values", []string{"--set-json", `workspaceSelector.matchExpressions=[{"key":"a","operator":"In"}]`}, "/workspaceSelector/matchExpressions/0"},
		{"bad label key", []string{"--set-json", `workspaceSelector.matchLabels={"bad key":"x"}`}, "/workspaceSelector/matchLabels"},
		{"memory limit in an unknown unit", []string{"--set", "resources.limits.memory=1T"}, "/resources/limits/memory"},
		{"grace shorter than the server's shutdown", []string{"--set", "terminationGracePeriodSeconds=10"}, "/terminationGracePeriodSeconds"},
		{"TLS 1.1", []string{"--set-string", "tlsMinVersion=1.1"}, "/tlsMinVersion"},
		{"request timeout not a duration", []string{"--set", "requestTimeout=ten"}, "/requestTimeout"},
		{"zero concurrent reviews", []string{"--set", "maxConcurrentReviews=0"}, "/maxConcurrentReviews"},
		{"body read timeout not a duration", []string{"--set", "bodyReadTimeout=2"}, "/bodyReadTimeout"},
		{"body budget below the binary's bound", []string{"--set", "maxBodyBytesInFlight=6291455"}, "/maxBodyBytesInFlight"},
		{"body budget above the binary's bound", []string{"--set", "maxBodyBytesInFlight=4294967297"}, "/maxBodyBytesInFlight"},
		{"relative mount path", []string{"--set", "libMountPath=apps/tilt-lib"}, "/libMountPath"},
		{"ConfigMap name not DNS-1123", []string{"--set", "libConfigMap=Tilt_Lib"}, "/libConfigMap"},
		{"no target container", []string{"--set-json", "containers=[]"}, "/containers"},
		{"alert duration in Go syntax", []string{"--set", "prometheusRule.alerts.notInjected.for=15m0.5s"}, "/prometheusRule/alerts/notInjected/for"},
		{"error ratio above 1", []string{"--set-json", "prometheusRule.alerts.admissionErrors.ratio=5"}, "/prometheusRule/alerts/admissionErrors/ratio"},
		{"rollout off-target points not positive", []string{"--set", "prometheusRule.alerts.rolloutOffTarget.points=0"}, "/prometheusRule/alerts/rolloutOffTarget/points"},
		{"rollout off-target points above 100", []string{"--set", "prometheusRule.alerts.rolloutOffTarget.points=101"}, "/prometheusRule/alerts/rolloutOffTarget/points"},
		{"certificate days not positive", []string{"--set", "prometheusRule.alerts.certificateExpiry.days=0"}, "/prometheusRule/alerts/certificateExpiry/days"},
		{"unknown alert setting", []string{"--set", "prometheusRule.alerts.down.threshold=1"}, "/prometheusRule/alerts/down/threshold"},
		{"job with a quote", []string{"--set", `prometheusRule.job=a"b`}, "/prometheusRule/job"},
		{"cluster label not a label name", []string{"--set", "clusterLabel=k8s-cluster"}, "/clusterLabel"},
		{"cluster label reserved", []string{"--set", "clusterLabel=__name__"}, "/clusterLabel"},
		{"cluster label empty", []string{"--set", "clusterLabel="}, "/clusterLabel"},
		{"cluster label above the bound", []string{"--set", "clusterLabel=" + strings.Repeat("c", 129)}, "/clusterLabel"},
		{"runbook with its own anchor", []string{"--set", "prometheusRule.runbookBaseURL=https://x/runbook.md#a"}, "/prometheusRule/runbookBaseURL"},
		{"target containers removed", []string{"--set", "containers=null"}, "containers"},
		{"client CA that is no PEM", []string{"--set", "clientCA=hello"}, "/clientCA"},
		{"misspelt top-level key", []string{"--set", "replicas=3"}, "replicas"},
		{"no Events budget", []string{"--set", "events.perMinute=0"}, "/events/perMinute"},
		{"Events budget above the binary's bound", []string{"--set", "events.perMinute=10001"}, "/events/perMinute"},
		{"Events QPS below the binary's bound", []string{"--set", "events.qps=0.05"}, "/events/qps"},
		{"Events QPS above the binary's bound", []string{"--set", "events.qps=1001"}, "/events/qps"},
		{"no Events burst", []string{"--set", "events.burst=0"}, "/events/burst"},
		{"no ConfigMap series", []string{"--set", "metrics.maxConfigMapSeries=0"}, "/metrics/maxConfigMapSeries"},
		{"ConfigMap series above the binary's bound", []string{"--set", "metrics.maxConfigMapSeries=10001"}, "/metrics/maxConfigMapSeries"},
		{"ConfigMap selector not a string", []string{"--set-json", `configMapSelector={"matchLabels":{"a":"b"}}`}, "/configMapSelector"},
		{"metrics reader of an unknown kind", []string{"--set-json", `metrics.readers=[{"kind":"Pod","name":"x"}]`}, "/metrics/readers/0/kind"},
		{"extra env without a name", []string{"--set-json", `extraEnv=[{"value":"x"}]`}, "/extraEnv/0"},
		{"extra env hiding the chart's POD_NAMESPACE", []string{"--set-json", `extraEnv=[{"name":"POD_NAMESPACE","value":"x"}]`}, "/extraEnv/0/name"},
		{"extra env hiding the chart's GOMEMLIMIT", []string{"--set-json", `extraEnv=[{"name":"GOMEMLIMIT","value":"1"}]`}, "/extraEnv/0/name"},
		{"extra env with a misspelt key", []string{"--set-json", `extraEnv=[{"name":"A","valu":"x"}]`}, "/extraEnv/0"},
		{"extra env name with a space", []string{"--set-json", `extraEnv=[{"name":"A B","value":"x"}]`}, "/extraEnv/0/name"},
		{"ServiceAccount reader without its namespace", []string{"--set-json", `metrics.readers=[{"kind":"ServiceAccount","name":"prometheus"}]`}, "/metrics/readers/0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := template(t, c.args...)
			if err == nil {
				t.Fatal("rendered; want the schema to refuse it")
			}
			if msg := err.Error(); !strings.Contains(msg, "schema") || !strings.Contains(msg, c.want) {
				t.Errorf("message does not name %s:\n%s", c.want, msg)
			}
		})
	}
}
