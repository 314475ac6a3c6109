package harness

import (
	"slices"
	"strings"
	"testing"
)

func TestDashboardQueries(t *testing.T) {
	dash := `{"templating": {"list": [
	    {"name": "datasource", "type": "datasource", "query": "prometheus"},
	    {"name": "job", "type": "query", "sort": 8, "query": {"query": "label_values(tiltlib_build_info{namespace=\"$namespace\"}, job)", "refId": "A"}}]},
	  "panels": [
	    {"title": "A", "targets": [{"expr": "up"}, {"expr": "tiltlib_ready"}]},
	    {"title": "Row", "type": "row", "panels": [{"title": "B", "targets": [{"expr": "tiltlib_build_info"}]}]}]}`
	queries, vars, err := DashboardQueries([]byte(dash))
	if err != nil {
		t.Fatal(err)
	}
	want := []PanelQuery{{"A", 0, "up"}, {"A", 1, "tiltlib_ready"}, {"B", 0, "tiltlib_build_info"}}
	if !slices.Equal(queries, want) {
		t.Errorf("queries = %+v, want %+v", queries, want)
	}
	wantVars := []DashboardVariable{{"datasource", "datasource", "prometheus", 0},
		{"job", "query", `label_values(tiltlib_build_info{namespace="$namespace"}, job)`, 8}}
	if !slices.Equal(vars, wantVars) {
		t.Errorf("vars = %+v, want %+v", vars, wantVars)
	}
	sel, label, ok := LabelValuesQuery(vars[1].Query)
	if !ok || sel != `tiltlib_build_info{namespace="$namespace"}` || label != "job" {
		t.Errorf("LabelValuesQuery = %q, %q, %v", sel, label, ok)
	}
	if _, _, ok := LabelValuesQuery("label_values(job)"); ok {
		t.Error("label_values(job) has no selector")
	}

	_, _, err = DashboardQueries([]byte(`{"panels": [{"title": "T", "targets": [{"refId": "A"}]}]}`))
	if err == nil || !strings.Contains(err.Error(), `panel "T" target 0 has no expr`) {
		t.Errorf("a target without expr: err = %v", err)
	}
}

func TestPrometheusRuleFile(t *testing.T) {
	manifests := `---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: x}
spec: {endpoints: []}
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: x}
spec:
  groups:
    - name: g
      rules:
        - alert: A
          expr: up == 0
          for: 5m
        - record: job:up:sum
          expr: sum by (job) (up)
`
	file, rules, err := PrometheusRuleFile([]byte(manifests))
	if err != nil {
		t.Fatal(err)
	}
	want := []RuleExpr{{"g", "A", "up == 0"}, {"g", "job:up:sum", "sum by (job) (up)"}}
	if !slices.Equal(rules, want) {
		t.Errorf("rules = %+v, want %+v", rules, want)
	}
	if !strings.HasPrefix(string(file), "groups:\n") || !strings.Contains(string(file), "for: 5m") {
		t.Errorf("rule file is not the spec as a Prometheus rule file:\n%s", file)
	}
	if _, _, err := PrometheusRuleFile([]byte("kind: ConfigMap\n")); err == nil {
		t.Error("no PrometheusRule: want an error")
	}
}

func TestSortOptions(t *testing.T) {
	for _, tc := range []struct {
		sort int
		want []string
	}{
		{8, []string{"1.10.0", "1.9.0", "1.4.0", ""}},
		{7, []string{"", "1.4.0", "1.9.0", "1.10.0"}},
		{1, []string{"", "1.10.0", "1.4.0", "1.9.0"}},
		{2, []string{"1.9.0", "1.4.0", "1.10.0", ""}},
	} {
		got := []string{"1.9.0", "", "1.10.0", "1.4.0"}
		SortOptions(got, tc.sort)
		if !slices.Equal(got, tc.want) {
			t.Errorf("sort %d: %q, want %q", tc.sort, got, tc.want)
		}
	}
}
