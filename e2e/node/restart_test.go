//go:build e2e

package node

import (
	"context"
	"errors"
	"os/exec"
	"testing"
	"time"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestUninjectedWorkspaceGetsLibraryAfterRestart: the seed guide's story for a workspace that
// starts while the injector is down. The chart's Deployment is scaled to zero; with failurePolicy
// Ignore the API server admits the workspace's Pod unmutated, kubelet runs it without the mounts,
// and the adoption gauge reports it as never injected (configmap="none"); once the injector Pods
// are back, `kubectl rollout restart` gives the workspace a new Pod that has the library.
func TestUninjectedWorkspaceGetsLibraryAfterRestart(t *testing.T) {
	ctx := context.Background()
	d := seedExample(t, "team-b.yaml", "team-b-restart")

	if err := chart.Scale(ctx, 0); err != nil {
		t.Fatal(err)
	}
	restored := false
	defer func() { // the suite's later scenarios need the injector
		if !restored {
			if err := restoreChart(ctx); err != nil {
				t.Errorf("scaling the injector back: %v", err)
			}
		}
	}()
	err := harness.Poll(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		pods, err := chart.Pods(ctx)
		return len(pods) == 0, err
	})
	if err != nil {
		t.Fatalf("injector Pods still there after scaling to 0: %v", err)
	}
	if err := inj.WaitPassing(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	w := runWorkspace(t, d, "tilt-lib-v2")
	if status, ok := w.pod.Annotations[harness.KeyStatus]; ok {
		t.Fatalf("Pod %s was reviewed (status %q) while the webhook was down", w.pod.Name, status)
	}
	var exit *exec.ExitError
	if _, _, err := execIn(ctx, w, "test", "-e", "/apps/tilt-lib/tilt_lib.star"); !errors.As(err, &exit) {
		t.Errorf("the un-injected workspace has /apps/tilt-lib/tilt_lib.star (test -e: %v)", err)
	}

	if err := restoreChart(ctx); err != nil {
		t.Fatalf("scaling the injector back: %v", err)
	}
	restored = true
	assertGaugeNamespace(t, w.ns, map[string]float64{"none": 1})

	start := time.Now()
	if _, stderr, err := inj.Kubectl(ctx, "-n", w.ns, "rollout", "restart", "deployment/"+w.deployment); err != nil {
		t.Fatalf("kubectl rollout restart: %v: %s", err, stderr)
	}
	w.pod = waitRunningPod(t, d, w.pod.UID)
	t.Logf("rollout restart → new Pod %s Running in %s", w.pod.Name, time.Since(start).Round(time.Millisecond))
	if rec, ok, err := harness.InjectedRecord(w.pod); err != nil || !ok || rec.Lib == nil || rec.Lib.ConfigMap != w.lib.Name {
		t.Fatalf("the restarted Pod %s is not injected with %s: %+v %v %v", w.pod.Name, w.lib.Name, rec, ok, err)
	}
	if got, want := mustExec(t, w, "cat", "/apps/tilt-lib/tilt_lib.star"), w.lib.Data["tilt_lib.star"]; got != want {
		t.Errorf("after the restart the workspace reads:\n%s\nwant ConfigMap %s:\n%s", got, w.lib.Name, want)
	}
	assertGaugeNamespace(t, w.ns, map[string]float64{w.lib.Name: 1, "none": 0})
}

// assertGaugeNamespace waits until tiltlib_workspace_pods, summed over versions, counts want
// workspace Pods per tilt-lib ConfigMap in namespace ns.
func assertGaugeNamespace(t *testing.T, ns string, want map[string]float64) {
	t.Helper()
	var got map[string]float64
	err := harness.Poll(context.Background(), 30*time.Second, func(ctx context.Context) (bool, error) {
		sn, err := chart.Scrape(ctx)
		if err != nil {
			return false, err
		}
		got = map[string]float64{}
		for _, m := range sn.Families["tiltlib_workspace_pods"].GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] == ns && labels["component"] == "tilt-lib" {
				got[labels["configmap"]] += m.GetGauge().GetValue()
			}
		}
		for cm, n := range want {
			if got[cm] != n {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Errorf("tiltlib_workspace_pods{namespace=%q,component=\"tilt-lib\"} by configmap = %v, want %v: %v", ns, got, want, err)
	}
}

// restoreChart scales the injector back to its two replicas and waits until the API server calls
// them again.
func restoreChart(ctx context.Context) error {
	if err := chart.Scale(ctx, 2); err != nil {
		return err
	}
	if err := chart.WaitRolledOut(ctx, 2*time.Minute); err != nil {
		return err
	}
	return inj.WaitInjecting(ctx, time.Minute)
}
