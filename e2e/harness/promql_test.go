package harness

import (
	"slices"
	"testing"
)

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`sum by (configmap, version) (max by (namespace, component, configmap, version) (tiltlib_workspace_pods{job="$job", component="tilt-lib", namespace=~"$workspace_namespace"}))`,
			[]string{"tiltlib_workspace_pods"}},
		{`histogram_quantile(0.99, sum by (le) (rate(controller_runtime_webhook_latency_seconds_bucket{job="x"}[5m])))`,
			[]string{"controller_runtime_webhook_latency_seconds_bucket"}},
		// Aggregation modifier after the body, binary operators with matching and keywords.
		{`sum(rate(tiltlib_admission_reviews_total{result="error"}[1m])) by (reason) / on() group_left sum(rate(tiltlib_admission_reviews_total[1m])) > bool 0`,
			[]string{"tiltlib_admission_reviews_total"}},
		{`(tiltlib_certificate_expiry_timestamp_seconds - time()) / 86400 < 14 and on(job) tiltlib_ready offset 5m`,
			[]string{"tiltlib_certificate_expiry_timestamp_seconds", "tiltlib_ready"}},
		// Strings (with braces and quotes inside), comments and subqueries hide nothing else.
		{"label_replace(max_over_time(tiltlib_build_info[1h:5m]), \"dst\", \"$1 {not_a_metric}\", 'src', `(.*)`) # comment_word\n or absent(up{job=\"a\\\"b\"})",
			[]string{"tiltlib_build_info", "up"}},
		{`count without (instance) (tiltlib_configmap_versions) == 1e3`, []string{"tiltlib_configmap_versions"}},
		{`vector(1)`, nil},
	} {
		if got := MetricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("MetricNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func TestSubstituteVars(t *testing.T) {
	vars := map[string]string{"job": "tilt-lib-injector", "workspace_namespace": ".*", "__rate_interval": "1m"}
	got := SubstituteVars(`rate(x{job="$job", namespace=~"${workspace_namespace}"}[$__rate_interval]) + y{ns="$namespace"}`, vars)
	want := `rate(x{job="tilt-lib-injector", namespace=~".*"}[1m]) + y{ns="$namespace"}`
	if got != want {
		t.Errorf("SubstituteVars = %s\nwant %s", got, want)
	}
}

func TestVars(t *testing.T) {
	got := Vars(`label_replace(x{job="$job"}[${__rate_interval}], "dst", "$1", "src", "(.*)")`)
	if want := []string{"job", "__rate_interval"}; !slices.Equal(got, want) {
		t.Errorf("Vars = %q, want %q", got, want)
	}
}
