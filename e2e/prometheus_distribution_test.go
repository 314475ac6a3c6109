//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// copyStates are the states of tiltlib_distribute_copies (docs/design.md, Distribution).
var copyStates = []string{"in_sync", "out_of_sync", "conflict", "orphaned"}

// TestPrometheusDistributionRow: two `webhook distribute` replicas (a leader, a standby) scraped by a
// real Prometheus under the chart's job name (the webhook's plus -distribute). One copy is in sync,
// one orphaned (its namespace deselected), one name held by an unmanaged ConfigMap (conflict). The
// Distribution row of the dashboard shows the leader's own gauges once although the standby is
// scraped too, no sync errors, and the time since the leader's last successful pass.
func TestPrometheusDistributionRow(t *testing.T) {
	ctx := context.Background()
	d := newDistSetup(t, "promdist")
	lib := d.source(t, "tilt-lib", "v1.0.0", map[string]string{"tilt_lib.star": "v1"})
	synced, orphaned, clash := d.target(t, true), d.target(t, true), d.target(t, true)
	if _, err := inj.Client.CoreV1().ConfigMaps(clash).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: lib.Name}, Data: map[string]string{"mine": "yes"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	leader := d.distributor(t, "leader")
	waitCM(t, orphaned, lib.Name, "copy", inSyncWith(lib))
	standby := d.distributor(t, "standby")
	d.label(t, orphaned, false)

	want := map[string]float64{"in_sync": 1, "out_of_sync": 0, "conflict": 1, "orphaned": 1}
	copies := func(w *harness.Webhook) map[string]float64 {
		sn := scrapeDist(t, w)
		got := map[string]float64{}
		for _, s := range copyStates {
			got[s] = sn.Get(distSeries("tiltlib_distribute_copies", "state", s))
		}
		return got
	}
	if err := harness.Poll(ctx, 30*time.Second, func(context.Context) (bool, error) { return maps.Equal(copies(leader), want), nil }); err != nil {
		t.Fatalf("the leader's copies %v, want %v (%s in sync, %s orphaned, %s conflict): %v", copies(leader), want, synced, orphaned, clash, err)
	}
	last := distSeries("tiltlib_distribute_last_success_timestamp_seconds")
	if sn := scrapeDist(t, standby); !maps.Equal(copies(standby), map[string]float64{"in_sync": 0, "out_of_sync": 0, "conflict": 0, "orphaned": 0}) || sn.Get(last) != 0 {
		t.Fatalf("the standby exports copies %v and last success %v, want zeros", copies(standby), sn.Get(last))
	}

	workDir := filepath.Join(inj.WorkDir, "prometheus-"+d.src)
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	prom, err := harness.StartPrometheus(ctx, harness.PrometheusOptions{WorkDir: workDir, Job: promJob + "-distribute", Namespace: d.src,
		Targets: []harness.PrometheusTarget{{Addr: leader.MetricsAddr, Pod: "distribute-0"}, {Addr: standby.MetricsAddr, Pod: "distribute-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("prometheus log (%s):\n%s", prom.LogPath, prom.LogTail(30))
		}
		if err := prom.Stop(); err != nil {
			t.Error(err)
		}
	})
	// Twice: the errors' rate needs two samples of each counter.
	for range 2 {
		if err := prom.WaitScraped(ctx, 2, start, time.Minute); err != nil {
			t.Fatal(err)
		}
		start = time.Now()
	}

	queries, _ := dashboard(t)
	vars := map[string]string{"job": promJob, "namespace": d.src, "__rate_interval": "1m", "cluster_label": clusterLabel, "cluster": ".*"}
	panel := func(title string, labels ...string) map[string]float64 {
		v, err := prom.Query(ctx, harness.SubstituteVars(firstTarget(t, queries, title), vars))
		if err != nil {
			t.Fatal(err)
		}
		return vectorValues(v, labels...)
	}
	wantByState := map[string]float64{}
	for s, n := range copies(leader) {
		wantByState["state="+s] = n
	}
	if got := panel("Distribution: copies by state", "state"); !maps.Equal(got, wantByState) {
		t.Errorf("copies by state = %v, the leader's gauges %v", got, wantByState)
	}
	wantErrors := map[string]float64{}
	for _, k := range []string{"create", "update", "mark_orphaned", "delete", "list_pods", "get"} {
		wantErrors["kind="+k] = 0
	}
	if got := panel("Distribution: sync errors", "kind"); !maps.Equal(got, wantErrors) {
		t.Errorf("sync errors = %v, want every kind at 0", got)
	}
	// time() - last success, evaluated at the sample's timestamp, gives back the leader's gauge
	// (a pass between the two reads moves it: read again).
	var got, own float64
	err = harness.Poll(ctx, 30*time.Second, func(context.Context) (bool, error) {
		v, err := prom.Query(ctx, harness.SubstituteVars(firstTarget(t, queries, "Distribution: since last successful pass"), vars))
		if err != nil || len(v) != 1 {
			return false, fmt.Errorf("%v: %v", v, err)
		}
		got = float64(v[0].Timestamp)/1000 - float64(v[0].Value)
		own = scrapeDist(t, leader).Get(last)
		return math.Abs(got-own) < 0.01 && own > 0, nil
	})
	if err != nil {
		t.Errorf("since last successful pass gives a pass at %.3f, the leader's gauge says %.3f: %v", got, own, err)
	}
}
