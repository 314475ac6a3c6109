//go:build e2e

package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// updates is how many times TestUpdatesReachRunningWorkspace changes the library.
const updates = 10

// TestUpdatesReachRunningWorkspace: the library ConfigMap changes (as an Argo CD sync would) and
// the running workspace sees each new content without a restart, and the adoption gauge reports
// it at the new version label. It measures, for each of
// `updates` changes, the time from the update call to the moment the container first read the
// new content (the runtime's timestamp of the line it printed; it checks every 100 ms), and
// reports p50 and max with kubelet's sync settings.
func TestUpdatesReachRunningWorkspace(t *testing.T) {
	w := startExampleWorkspace(t, "team-b.yaml", "team-b-updates", "tilt-lib-v2")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen, err := harness.FollowLib(ctx, inj.Client, w.ns, w.pod.Name, "dev")
	if err != nil {
		t.Fatal(err)
	}
	original := w.lib.Data["tilt_lib.star"]
	_, rest, _ := strings.Cut(original, "\n")
	if _, err := harness.AwaitLib(seen, firstLine(original), time.Minute); err != nil {
		t.Fatalf("the workspace never reported the library it started with: %v", err)
	}

	latencies := make([]time.Duration, 0, updates)
	cm := w.lib
	// Kubelet writes a changed ConfigMap into the volume at the Pod's next periodic sync, every
	// syncFrequency plus up to 50% jitter. Updating right after the last one arrived would always
	// land at the same point of that cycle; a delay spread over 1.5 periods samples every point
	// (this spaces the updates as a GitOps sync would, it waits for nothing).
	period := node.SyncFrequency() * 3 / 2
	for i := 1; i <= updates; i++ {
		time.Sleep(period * time.Duration(i-1) / updates)
		first := fmt.Sprintf("# tilt-lib 2.0.%d -- e2e update %d of %d", 1+i, i, updates)
		cm = cm.DeepCopy()
		cm.Data["tilt_lib.star"] = first + "\n" + rest
		cm.Labels["version"] = fmt.Sprintf("2.0.%d", 1+i)
		sent := time.Now()
		if cm, err = inj.Client.CoreV1().ConfigMaps(w.ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		at, err := harness.AwaitLib(seen, first, time.Minute)
		if err != nil {
			t.Fatalf("update %d never reached the running container: %v", i, err)
		}
		latencies = append(latencies, at.Sub(sent))
	}

	pod, err := inj.Client.CoreV1().Pods(w.ns).Get(ctx, w.pod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.RestartCount != 0 {
			t.Errorf("container %s restarted %d times: the updates must reach it running", cs.Name, cs.RestartCount)
		}
	}
	if got, want := mustExec(t, w, "cat", "/apps/tilt-lib/tilt_lib.star"), cm.Data["tilt_lib.star"]; got != want {
		t.Errorf("after %d updates the container reads:\n%s\nwant the last update:\n%s", updates, got, want)
	}
	assertGaugeFollows(t, w.ns, cm.Name, w.lib.Labels["version"], cm.Labels["version"])
	p50, max := percentile(latencies, 50), slices.Max(latencies)
	t.Logf("ConfigMap update → running container sees it, %d updates: p50 %s, max %s (all: %v); kubelet syncFrequency %s, configMapAndSecretChangeDetectionStrategy Watch",
		updates, p50.Round(time.Millisecond), max.Round(time.Millisecond), rounded(latencies), node.SyncFrequency())
	logf("update latency over %d ConfigMap updates: p50 %s, max %s (kubelet syncFrequency %s, Watch)",
		updates, p50.Round(time.Millisecond), max.Round(time.Millisecond), node.SyncFrequency())
}

// assertGaugeFollows: the adoption gauge counts the running (never restarted) Pod at the
// ConfigMap's new version label, and no longer at the old one.
func assertGaugeFollows(t *testing.T, ns, configMap, oldVersion, newVersion string) {
	t.Helper()
	series := func(version string) harness.Series {
		return harness.Series{Name: "tiltlib_workspace_pods", Labels: map[string]string{
			"namespace": ns, "component": "tilt-lib", "configmap": configMap, "version": version}}
	}
	var last harness.Snapshot
	err := harness.Poll(context.Background(), 30*time.Second, func(ctx context.Context) (bool, error) {
		var err error
		if last, err = chart.Scrape(ctx); err != nil {
			return false, err
		}
		return last.Get(series(newVersion)) == 1 && last.Get(series(oldVersion)) == 0, nil
	})
	if err != nil {
		t.Errorf("tiltlib_workspace_pods: %s = %v and %s = %v, want 1 and 0: %v", series(newVersion).Key(),
			last.Get(series(newVersion)), series(oldVersion).Key(), last.Get(series(oldVersion)), err)
	}
}

func firstLine(s string) string { first, _, _ := strings.Cut(s, "\n"); return first }

// percentile is the nearest-rank percentile p of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(i, 0)]
}

func rounded(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(10 * time.Millisecond)
	}
	return out
}
