//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/hack/promqlnames"
	"github.com/platform-tools/tilt-lib-injector/pkg/distributor"
)

// TestPrometheusDashboardAndRules: two replicas of the webhook, scraped by a real Prometheus as the
// chart's ServiceMonitor would (honor_labels, namespace target label), which loads the chart's
// PrometheusRule. Every dashboard and rule expression evaluates, the adoption panels show exactly
// the scenario's Pods although both replicas export them, and every metric name the dashboard
// and rules use is one the binary exports.
func TestPrometheusDashboardAndRules(t *testing.T) {
	s := newPromScenario(t)
	t.Logf("prometheus on %s (pid %d), replicas' metrics on %s and %s", s.prom.Addr, s.prom.PID(),
		s.sc.replicas[0].MetricsAddr, s.sc.replicas[1].MetricsAddr)
	defer func() {
		if t.Failed() {
			t.Logf("prometheus log (%s):\n%s", s.prom.LogPath, s.prom.LogTail(30))
		}
	}()
	gauges := onceGauges(s)

	t.Run("counters add up across replicas", func(t *testing.T) {
		// Each replica counts what it admitted: the sum is what the scenario created.
		got := vectorValues(s.query(t, `sum by (configmap) (tiltlib_injections_total{job="`+promJob+`", component="tilt-lib"})`), "configmap")
		// The teams' 3 Pods, and the rollout namespace's canaries and baseline.
		want := map[string]float64{"configmap=tilt-lib-v2": 2 + float64(promRolloutPods-s.canaries), "configmap=tilt-lib": 1, "configmap=tilt-lib-v3": float64(s.canaries)}
		if !maps.Equal(got, want) {
			t.Errorf("injections by ConfigMap = %v, want %v", got, want)
		}
		// tiltlib_build_info has no namespace of its own: it takes the injector's, as the
		// dashboard's namespace variable expects.
		got = vectorValues(s.query(t, `count by (namespace, job) (tiltlib_build_info)`), "namespace", "job")
		if want := map[string]float64{"namespace=" + s.sc.ns + ",job=" + promJob: 2}; !maps.Equal(got, want) {
			t.Errorf("build info = %v, want one per replica under %v", got, want)
		}
	})

	t.Run("dashboard variables", func(t *testing.T) {
		gauges(t)
		_, vars := dashboard(t)
		// One cluster without a cluster label: the cluster variable offers nothing (All only).
		want := map[string][]string{"namespace": {s.sc.ns}, "job": {promJob}, "workspace_namespace": sorted(s.defNS, s.v2NS), "cluster": nil}
		seen := map[string]bool{}
		for _, v := range vars {
			seen[v.Name] = true
			selector, label, ok := harness.LabelValuesQuery(harness.SubstituteVars(v.Query, s.dashboardVars(".*")))
			if !ok {
				continue
			}
			values := map[string]bool{}
			for _, smp := range s.query(t, selector) {
				// Grafana's label_values offers no empty value: a series without the label has none.
				if l := string(smp.Metric[model.LabelName(label)]); l != "" {
					values[l] = true
				}
			}
			got := slices.Sorted(maps.Keys(values))
			w, ok := want[v.Name]
			switch {
			case !ok:
			case v.Name == "workspace_namespace":
				// Both teams must be offered; whether a namespace without workspaces is too
				// depends on whether the gauge exports zeros, which the contract leaves open.
				if !slices.Contains(got, w[0]) || !slices.Contains(got, w[1]) {
					t.Errorf("variable %s (%s) = %v, want it to offer %v", v.Name, v.Query, got, w)
				}
			case !slices.Equal(got, w):
				t.Errorf("variable %s (%s) = %v, want %v", v.Name, v.Query, got, w)
			}
		}
		for _, name := range []string{"datasource", "cluster_label", "cluster", "namespace", "job", "workspace_namespace"} {
			if !seen[name] {
				t.Errorf("the dashboard has no variable %s", name)
			}
		}
	})

	t.Run("every expression evaluates", func(t *testing.T) {
		queries, vars := dashboard(t)
		values := s.resolveVars(t, vars)
		for _, q := range queries {
			expr := harness.SubstituteVars(q.Expr, values)
			if left := harness.Vars(expr); len(left) > 0 {
				t.Errorf("panel %q target %d uses variables outside the contract %q: %s", q.Panel, q.Index, left, q.Expr)
				continue
			}
			if _, err := s.prom.Query(context.Background(), expr); err != nil {
				t.Errorf("panel %q target %d: %v", q.Panel, q.Index, err)
			}
		}
		for _, r := range s.rules {
			if _, err := s.prom.Query(context.Background(), r.Expr); err != nil {
				t.Errorf("rule %s: %v", r.Name, err)
			}
		}
		t.Logf("%d dashboard and %d rule expressions evaluated", len(queries), len(s.rules))
	})

	t.Run("adoption panels count each Pod once", func(t *testing.T) {
		gauges(t)
		queries, _ := dashboard(t)
		panel := func(title, workspaceNS string, labels ...string) map[string]float64 {
			expr := harness.SubstituteVars(firstTarget(t, queries, title), s.dashboardVars(workspaceNS))
			return vectorValues(s.query(t, expr), labels...)
		}
		// One cluster, no cluster label, cluster All: exactly the scenario's Pods.
		lib := panel(panelLib, ".*", "configmap", "version")
		if wantLib := s.wantLibPanel(); !maps.Equal(lib, wantLib) {
			t.Errorf("%q = %v, want %v", panelLib, lib, wantLib)
		}
		wantTemplates := map[string]float64{"configmap=tilt-templates,version=1.1.0": 3 + promRolloutPods, "configmap=none,version=": 1}
		if got := panel(panelTemplates, ".*", "configmap", "version"); !maps.Equal(got, wantTemplates) {
			t.Errorf("%q = %v, want %v", panelTemplates, got, wantTemplates)
		}
		if got, want := panel(panelUninjected, ".*", "namespace"), map[string]float64{"namespace=" + s.defNS: 1}; !maps.Equal(got, want) {
			t.Errorf("%q = %v, want %v", panelUninjected, got, want)
		}
		// The workspace namespace variable narrows the panel to one team.
		if got, want := panel(panelLib, s.v2NS, "configmap", "version"), map[string]float64{"configmap=tilt-lib-v2,version=2.0.1": 2}; !maps.Equal(got, want) {
			t.Errorf("%q for %s = %v, want %v", panelLib, s.v2NS, got, want)
		}
		// Both replicas export every Pod: a plain sum counts each twice, which is why the
		// dashboard takes max across replicas first.
		var total float64
		for _, v := range lib {
			total += v
		}
		raw := s.query(t, `sum(tiltlib_workspace_pods{job="`+promJob+`", component="tilt-lib"})`)
		if len(raw) != 1 || float64(raw[0].Value) != 2*total || total != 4+promRolloutPods {
			t.Errorf("sum over both replicas = %v, want 2 x the panel's total %v (= %d Pods)", raw, total, 4+promRolloutPods)
		}
	})

	t.Run("rollout row", func(t *testing.T) {
		gauges(t)
		testRolloutRow(t, s)
	})

	t.Run("the chart's rules load and evaluate", func(t *testing.T) {
		gauges(t)
		var names []string
		for _, r := range s.rules {
			names = append(names, r.Name)
		}
		for _, a := range alertNames {
			if !slices.Contains(names, a) {
				t.Errorf("the chart's PrometheusRule lacks alert %s (has %v)", a, names)
			}
		}
		loaded, err := s.prom.WaitRulesEvaluated(context.Background(), time.Now(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(loaded) != len(s.rules) {
			t.Errorf("prometheus loaded %d rules, the chart renders %d", len(loaded), len(s.rules))
		}
		state := map[string]string{}
		for _, r := range loaded {
			state[r.Name] = r.State
			if r.Health != "ok" {
				t.Errorf("rule %s: health %q: %s", r.Name, r.Health, r.LastError)
			}
		}
		// The legacy Pod is un-injected: the alert is on its way (for: 15m); both replicas are
		// up and ready, so neither of those alerts is.
		if st := state["TiltLibWorkspacesNotInjected"]; st != "pending" && st != "firing" {
			t.Errorf("TiltLibWorkspacesNotInjected is %q with an un-injected workspace, want pending", st)
		}
		for _, a := range []string{"TiltLibInjectorDown", "TiltLibInjectorNotReady"} {
			if st := state[a]; st != "inactive" {
				t.Errorf("%s is %q with two ready replicas, want inactive", a, st)
			}
		}
	})

	t.Run("two clusters on one dashboard", func(t *testing.T) {
		gauges(t)
		testTwoClusters(t, s)
	})

	t.Run("every metric used is exported", func(t *testing.T) {
		gauges(t)
		queries, vars := dashboard(t)
		values := s.resolveVars(t, vars)
		used := map[string][]string{} // name -> where
		note := func(where, expr string) {
			for _, n := range promMetricNames(t, expr) {
				used[n] = append(used[n], where)
			}
		}
		for _, q := range queries {
			note(fmt.Sprintf("panel %q", q.Panel), harness.SubstituteVars(q.Expr, values))
		}
		for _, v := range vars {
			if selector, _, ok := harness.LabelValuesQuery(v.Query); ok {
				note("variable "+v.Name, harness.SubstituteVars(selector, values))
			}
		}
		for _, r := range s.rules {
			note("rule "+r.Name, r.Expr)
		}
		families := map[string]*dto.MetricFamily{}
		for _, w := range s.sc.replicas {
			sn, err := harness.Scrape(context.Background(), w.MetricsAddr)
			if err != nil {
				t.Fatal(err)
			}
			maps.Copy(families, sn.Families)
		}
		// The Distribution row reads `webhook distribute`'s metrics: the families it registers.
		reg := prometheus.NewRegistry()
		if _, err := distributor.NewMetrics(reg); err != nil {
			t.Fatal(err)
		}
		gathered, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range gathered {
			if _, ok := families[f.GetName()]; ok {
				t.Errorf("the distributor's %s is also the webhook's", f.GetName())
			}
			families[f.GetName()] = f
		}
		for _, name := range slices.Sorted(maps.Keys(used)) {
			if !exported(name, families) {
				t.Errorf("%s (used by %s) is not exported by the webhook or the distributor", name, strings.Join(slices.Compact(used[name]), ", "))
			}
		}
		if _, ok := used["tiltlib_workspace_pods"]; !ok {
			t.Error("neither dashboard nor rules use tiltlib_workspace_pods")
		}
	})
}

// resolveVars is the values Grafana would substitute: the contract's variables as
// dashboardVars(".*") sets them, and any other label_values variable resolved like Grafana's
// default selection, its first value in the variable's sort order (evaluated through
// Prometheus). Each such extra variable is logged: the contract names only job, namespace,
// workspace_namespace and __rate_interval.
func (s *promScenario) resolveVars(t *testing.T, vars []harness.DashboardVariable) map[string]string {
	t.Helper()
	values := s.dashboardVars(".*")
	for _, v := range vars {
		if _, fixed := values[v.Name]; fixed {
			continue
		}
		selector, label, ok := harness.LabelValuesQuery(v.Query)
		if !ok {
			continue
		}
		var options []string
		for _, smp := range s.query(t, harness.SubstituteVars(selector, values)) {
			if o := string(smp.Metric[model.LabelName(label)]); !slices.Contains(options, o) {
				options = append(options, o)
			}
		}
		harness.SortOptions(options, v.Sort)
		if len(options) > 0 {
			values[v.Name] = options[0]
		}
		t.Logf("dashboard variable %s outside the contract's list: %s -> %q (of %q)", v.Name, v.Query, values[v.Name], options)
	}
	return values
}

// promMetricNames: the metric names expr reads, by the same reader the chart tests use.
func promMetricNames(t *testing.T, expr string) []string {
	t.Helper()
	names, err := promqlnames.Names(expr)
	if err != nil {
		t.Fatalf("reading metric names of %q: %v", expr, err)
	}
	return names
}

// exported reports whether a scrape's families provide name: a family of that name, a histogram's
// _bucket/_sum/_count or a summary's _sum/_count; `up` is Prometheus' own.
func exported(name string, families map[string]*dto.MetricFamily) bool {
	if name == "up" || families[name] != nil {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok || families[base] == nil {
			continue
		}
		switch families[base].GetType() {
		case dto.MetricType_HISTOGRAM:
			return true
		case dto.MetricType_SUMMARY:
			return suffix != "_bucket"
		}
	}
	return false
}

// onceGauges returns a check that waits for the scenario's gauges the first time and repeats its
// verdict afterwards, so that every subtest needing them fails fast with the same reason.
func onceGauges(s *promScenario) func(t *testing.T) {
	done, failed := false, ""
	return func(t *testing.T) {
		t.Helper()
		if !done {
			done = true
			ok := t.Run("wait for the workspace gauges", func(t *testing.T) { s.waitGauges(t) })
			if !ok {
				failed = "the replicas never exported the scenario's tiltlib_workspace_pods (see the wait's subtest)"
			}
		}
		if failed != "" {
			t.Fatal(failed)
		}
	}
}

func sorted(v ...string) []string { return slices.Sorted(slices.Values(v)) }
