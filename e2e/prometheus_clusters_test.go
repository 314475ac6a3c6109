//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// clusterLabel is the chart's default clusterLabel: the label the rendered rules group by and the
// value of the dashboard's hidden cluster_label variable (contract: docs/design.md, Many clusters).
const clusterLabel = "cluster"

// wantLibPanel is what the tilt-lib adoption panel shows for the scenario's Pods in one cluster:
// the teams' 4 and the rollout namespace's canaries (tilt-lib-v3) and baseline (tilt-lib-v2).
func (s *promScenario) wantLibPanel() map[string]float64 {
	return map[string]float64{"configmap=tilt-lib-v2,version=2.0.1": 2 + float64(promRolloutPods-s.canaries),
		"configmap=tilt-lib-v3,version=3.0.0": float64(s.canaries), "configmap=tilt-lib,version=1.4.0": 1, "configmap=none,version=": 1}
}

// startTwoClusters starts a second Prometheus over the scenario's replicas, each scraped twice: as
// cluster a and as cluster b. It stands for Thanos or federation over two clusters whose injectors
// see the same namespace names and Pods: every series exists once per cluster.
func (s *promScenario) startTwoClusters(t *testing.T) *harness.Prometheus {
	t.Helper()
	ctx := context.Background()
	workDir := filepath.Join(inj.WorkDir, "prometheus-clusters-"+s.sc.ns)
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		t.Fatal(err)
	}
	var targets []harness.PrometheusTarget
	for _, cluster := range []string{"a", "b"} {
		for i, w := range s.sc.replicas {
			targets = append(targets, harness.PrometheusTarget{Addr: w.MetricsAddr, Pod: fmt.Sprintf("%s-%d", promJob, i),
				Labels: map[string]string{clusterLabel: cluster}})
		}
	}
	start := time.Now()
	p, err := harness.StartPrometheus(ctx, harness.PrometheusOptions{WorkDir: workDir, Job: promJob, Namespace: s.sc.ns, Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("two-cluster prometheus log (%s):\n%s", p.LogPath, p.LogTail(30))
		}
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	if err := p.WaitScraped(ctx, len(targets), start, time.Minute); err != nil {
		t.Fatal(err)
	}
	return p
}

// testTwoClusters: on one Prometheus over two clusters, the cluster variable offers both; each
// cluster's adoption panel shows its N Pods, All shows 2N; the un-injected panel and the chart's
// alert name the namespace once per cluster. Without the cluster in max by, All showed N.
func testTwoClusters(t *testing.T, s *promScenario) {
	p := s.startTwoClusters(t)
	query := func(expr string) model.Vector {
		t.Helper()
		v, err := p.Query(context.Background(), expr)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	queries, vars := dashboard(t)

	all := s.dashboardVars(".*")
	i := slices.IndexFunc(vars, func(v harness.DashboardVariable) bool { return v.Name == "cluster" })
	if i < 0 {
		t.Fatal("the dashboard has no cluster variable")
	}
	selector, label, ok := harness.LabelValuesQuery(harness.SubstituteVars(vars[i].Query, all))
	if !ok {
		t.Fatalf("cluster variable %q is not label_values(selector, label)", vars[i].Query)
	}
	offered := map[string]bool{}
	for _, smp := range query(selector) {
		offered[string(smp.Metric[model.LabelName(label)])] = true
	}
	if got := slices.Sorted(maps.Keys(offered)); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("cluster variable (%s) offers %v, want [a b]", vars[i].Query, got)
	}

	panel := func(title, cluster string, labels ...string) map[string]float64 {
		v := s.dashboardVars(".*")
		v["cluster"] = cluster
		return vectorValues(query(harness.SubstituteVars(firstTarget(t, queries, title), v)), labels...)
	}
	one := s.wantLibPanel()
	for _, c := range []string{"a", "b"} {
		if got := panel(panelLib, c, "configmap", "version"); !maps.Equal(got, one) {
			t.Errorf("%q for cluster %s = %v, want %v", panelLib, c, got, one)
		}
	}
	both := map[string]float64{}
	for k, n := range one {
		both[k] = 2 * n
	}
	// All (allValue .*) and both selected (Grafana sends the regex (a|b)) count both clusters.
	for _, c := range []string{".*", "(a|b)"} {
		if got := panel(panelLib, c, "configmap", "version"); !maps.Equal(got, both) {
			t.Errorf("%q for clusters %s = %v, want twice one cluster's %v", panelLib, c, got, both)
		}
	}
	wantUninjected := map[string]float64{"cluster=a,namespace=" + s.defNS: 1, "cluster=b,namespace=" + s.defNS: 1}
	if got := panel(panelUninjected, ".*", "cluster", "namespace"); !maps.Equal(got, wantUninjected) {
		t.Errorf("%q for All = %v, want %v", panelUninjected, got, wantUninjected)
	}
	// The reason: max by the replicas' labels without the cluster takes the two clusters' same
	// namespace for one, and All shows one cluster's Pods.
	collapsed := query(`sum(max by (namespace, component, configmap, version) (tiltlib_workspace_pods{job="` + promJob + `", component="tilt-lib"}))`)
	if len(collapsed) != 1 || float64(collapsed[0].Value) != 4+promRolloutPods {
		t.Errorf("max by without the cluster = %v, want one cluster's %d Pods (the undercount the cluster label fixes)", collapsed, 4+promRolloutPods)
	}

	for _, r := range s.rules {
		if _, err := p.Query(context.Background(), r.Expr); err != nil {
			t.Errorf("rule %s over two clusters: %v", r.Name, err)
		}
		if r.Name != "TiltLibWorkspacesNotInjected" {
			continue
		}
		if got := vectorValues(query(r.Expr), "cluster", "namespace"); !maps.Equal(got, wantUninjected) {
			t.Errorf("%s over two clusters = %v, want one alert per cluster %v", r.Name, got, wantUninjected)
		}
	}
}
