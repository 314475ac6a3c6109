package charttest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/platform-tools/tilt-lib-injector/hack/promqlnames"
)

// contractMetrics are the metric names the dashboard and the alerts may read: the issue-9 contract's
// list (docs/design.md, Metrics), re-declared here as the oracle; the e2e suite checks that the
// binary exports each of them. `up` is Prometheus' own; a histogram is read through its _bucket series.
var contractMetrics = []string{
	"tiltlib_workspace_pods", "tiltlib_configmap_versions", "tiltlib_ready",
	"tiltlib_injections_total", "tiltlib_admission_reviews_total", "tiltlib_events_dropped_total",
	"tiltlib_certificate_expiry_timestamp_seconds", "tiltlib_build_info",
	"controller_runtime_webhook_latency_seconds_bucket", "controller_runtime_webhook_requests_total",
	"tiltlib_versions_document_valid", "tiltlib_versions_document_serving",
	"tiltlib_rollout_percent", "tiltlib_rollout_workspaces",
	"tiltlib_distribute_copies", "tiltlib_distribute_sync_errors_total", "tiltlib_distribute_last_success_timestamp_seconds",
	"up",
}

// adoptionGauges are exported by every replica: each read must first take max by the gauge's own
// labels (which drops instance and pod), or two replicas count every Pod twice, and by the cluster
// label (the chart's default, clusterLabel), or two clusters' same-named namespaces count once.
var adoptionGauges = map[string]string{
	"tiltlib_workspace_pods":     "max by (cluster, namespace, component, configmap, version) (",
	"tiltlib_configmap_versions": "max by (cluster, component, configmap, version) (",
	"tiltlib_rollout_workspaces": "max by (cluster, rollout, component, arm) (",
	"tiltlib_rollout_percent":    "max by (cluster, rollout) (",
	// The distributor's: only the leader's pass sets them, a standby exports 0, and during a
	// hand-over both replicas may hold the same count.
	"tiltlib_distribute_copies":                         "max by (cluster, state) (",
	"tiltlib_distribute_last_success_timestamp_seconds": "max by (cluster) (",
}

// metricNames returns the metrics expr reads, and a problem for each one outside the contract.
func metricNames(expr string) (names, problems []string) {
	names, err := promqlnames.Names(expr)
	if err != nil {
		return nil, []string{err.Error()}
	}
	if len(names) == 0 {
		problems = append(problems, fmt.Sprintf("%q reads no metric", expr))
	}
	for _, n := range names {
		if !slices.Contains(contractMetrics, n) {
			problems = append(problems, fmt.Sprintf("metric %s is not in the contract", n))
		}
	}
	return names, problems
}

// maxFirst returns a problem for each read of an adoption gauge not straight inside its `max by`.
func maxFirst(expr string) (problems []string) {
	for metric, wrap := range adoptionGauges {
		for i := strings.Index(expr, metric); i >= 0; {
			if !strings.HasSuffix(strings.TrimRight(expr[:i], " "), strings.TrimSuffix(wrap, " ")) {
				problems = append(problems, fmt.Sprintf("%s not read through %q…: %q", metric, wrap, expr))
			}
			next := strings.Index(expr[i+len(metric):], metric)
			if next < 0 {
				break
			}
			i += len(metric) + next
		}
	}
	return problems
}

// jobSelected returns a problem for each read of a metric of expr without the matcher sel (job="x").
func jobSelected(expr, sel string, names []string) (problems []string) {
	for _, n := range names {
		rest := expr
		for {
			i := strings.Index(rest, n)
			if i < 0 {
				break
			}
			inWord := i > 0 && isIdentChar(rest[i-1]) // `up` inside `group`
			rest = rest[i+len(n):]
			if inWord || (len(rest) > 0 && isIdentChar(rest[0])) {
				continue
			}
			end := strings.IndexByte(rest, '}')
			if !strings.HasPrefix(rest, "{") || end < 0 || !strings.Contains(rest[:end], sel) {
				problems = append(problems, fmt.Sprintf("%s read without %s: %q", n, sel, expr))
			}
		}
	}
	return problems
}

func isIdentChar(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// TestContractCheckersCatchMistakes: the checkers used on the dashboard and the rules see each mistake.
func TestContractCheckersCatchMistakes(t *testing.T) {
	for _, c := range []struct{ name, expr string }{
		{"sum straight over the gauge", `sum by (namespace) (tiltlib_workspace_pods{job="j"})`},
		{"max by the wrong labels", `sum(max by (namespace) (tiltlib_workspace_pods{job="j"}))`},
		{"second read without max", `max by (namespace, component, configmap, version) (tiltlib_workspace_pods{job="j"}) / sum(tiltlib_workspace_pods{job="j"})`},
		{"versions summed", `sum by (version) (tiltlib_configmap_versions{job="j"})`},
		{"max without the cluster", `sum(max by (namespace, component, configmap, version) (tiltlib_workspace_pods{job="j"}))`},
	} {
		if len(maxFirst(c.expr)) == 0 {
			t.Errorf("maxFirst accepts %s: %q", c.name, c.expr)
		}
	}
	if p := maxFirst(`sum(max by (cluster, namespace, component, configmap, version) (tiltlib_workspace_pods{job="j"}))`); len(p) != 0 {
		t.Errorf("maxFirst refuses the contract's form: %v", p)
	}
	if len(jobSelected(`rate(a_total{job="j"}[5m]) / rate(a_total[5m])`, `job="j"`, []string{"a_total"})) == 0 {
		t.Error("jobSelected accepts a read without the job")
	}
	if p := jobSelected(`group by (cluster) (up{job="j"})`, `job="j"`, []string{"up"}); len(p) != 0 {
		t.Errorf("jobSelected takes the up in group for a read: %v", p)
	}
	if len(jobSelected(`group by (cluster) (up)`, `job="j"`, []string{"up"})) == 0 {
		t.Error("jobSelected accepts up without the job after a group")
	}
	if _, p := metricNames(`rate(tiltlib_made_up_total[5m])`); len(p) == 0 {
		t.Error("metricNames accepts a metric outside the contract")
	}
}
