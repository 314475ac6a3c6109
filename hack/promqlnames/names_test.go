package promqlnames

import (
	"errors"
	"slices"
	"testing"
)

func TestNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`sum by (configmap, version) (max by (namespace, component, configmap, version) (tiltlib_workspace_pods{job="$job", component="tilt-lib", namespace=~"$workspace_namespace"}))`,
			[]string{"tiltlib_workspace_pods"}},
		// Function and aggregation names, `le` in a grouping list, a Grafana interval variable in a range.
		{`histogram_quantile(0.99, sum by (le) (rate(controller_runtime_webhook_latency_seconds_bucket{job="$job"}[$__rate_interval])))`,
			[]string{"controller_runtime_webhook_latency_seconds_bucket"}},
		// Binary operators with on/group_left lists, bool, a label value holding '}' and a metric-like word.
		{`sum(rate(a_total{x="}up{"}[5m])) / on (job) group_left (instance) b_total > bool 0.5 unless c`,
			[]string{"a_total", "b_total", "c"}},
		// Durations, offset, numbers in exponent and hex form, a subquery with a step.
		{`max_over_time(x[1h:5m] offset 1d) * 1e3 + 0x1f - .5 + time() / 86400`, []string{"x"}},
		// Aggregation keyword without a grouping, `without`, a keyword used as a label name.
		{`count without (on, by) (sum(y) or z)`, []string{"y", "z"}},
		// Strings in three quotings, label_replace's $1 inside a string, ${var} and [[var]].
		{"label_replace(m{a='x\\'y', b=`q\"`}, \"dst\", \"$1\", \"src\", \"(.*)\") == ${threshold} + [[old]]", []string{"m"}},
		// A name given as a matcher, recording-rule colons, a comment, duplicates.
		{"{__name__=\"by_name\", job=\"j\"} + job:rate5m:sum # not_a_metric\n + job:rate5m:sum", []string{"by_name", "job:rate5m:sum"}},
		{`{__name__=~"re.*"}`, nil},
		{`absent(up{job="tilt-lib-injector"} == 1)`, []string{"up"}},
		{`min by (job, kind) (tiltlib_certificate_expiry_timestamp_seconds{job="j"}) - time() < 14 * 86400`, []string{"tiltlib_certificate_expiry_timestamp_seconds"}},
	} {
		got, err := Names(c.expr)
		if err != nil {
			t.Errorf("Names(%q): %v", c.expr, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Names(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}

func TestNamesRejectsWhatDoesNotTokenize(t *testing.T) {
	for _, expr := range []string{`up{job="x}`, `up{job="x"`, `rate(x[5m)`, `"open`, `sum by (a`, `[[var`} {
		if _, err := Names(expr); !errors.Is(err, ErrSyntax) {
			t.Errorf("Names(%q): %v, want ErrSyntax", expr, err)
		}
	}
}

func FuzzNames(f *testing.F) {
	f.Add(`sum by (le) (rate(x_bucket{a="b"}[5m]))`)
	f.Add("{__name__=\"")
	f.Add("up + $") // a lone `$` at the end once sliced out of range
	f.Fuzz(func(t *testing.T, expr string) {
		names, err := Names(expr)
		if err == nil && !slices.IsSorted(names) {
			t.Errorf("unsorted %q", names)
		}
	})
}

// TestNamesOfShippedShapes: the expression shapes the dashboard and rules use (the e2e suite reads
// their names with Names and checks the binary exports each).
func TestNamesOfShippedShapes(t *testing.T) {
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
		// The rollout alert: arm matchers with a regex of arm names, on/group_left and group_right
		// lists, abs and sqrt around arithmetic with numbers.
		{"(abs(100 * sum by (cluster, rollout, component) (max by (cluster, rollout, component, arm) (tiltlib_rollout_workspaces{job=\"j\", arm=~\"canary|pending\"}))\n" +
			" / sum by (cluster, rollout, component) (max by (cluster, rollout, component, arm) (tiltlib_rollout_workspaces{job=\"j\"}))\n" +
			" - on (cluster, rollout) group_left max by (cluster, rollout) (tiltlib_rollout_percent{job=\"j\"})) > 10)\n" +
			"> 3 * sqrt(max by (cluster, rollout) (tiltlib_rollout_percent{job=\"j\"}) * (100 - max by (cluster, rollout) (tiltlib_rollout_percent{job=\"j\"}))\n" +
			" / on (cluster, rollout) group_right sum by (cluster, rollout, component) (max by (cluster, rollout, component, arm) (tiltlib_rollout_workspaces{job=\"j\"})))",
			[]string{"tiltlib_rollout_percent", "tiltlib_rollout_workspaces"}},
	} {
		if got, err := Names(tc.expr); err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Names(%q) = %q, %v; want %q", tc.expr, got, err, tc.want)
		}
	}
}
