//go:build e2e

package node

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// updates is how many times TestUpdatesReachRunningWorkspace changes the library.
const updates = 10

// sighting is a line of the workspace's log: when the container runtime stamped it, and the
// library's first line it reports.
type sighting struct {
	at    time.Time
	first string
}

// followLib streams the dev container's log (timestamps from the runtime) and sends each "lib:"
// line, until ctx ends.
func followLib(ctx context.Context, t *testing.T, w workspace) <-chan sighting {
	t.Helper()
	req := inj.Client.CoreV1().Pods(w.ns).GetLogs(w.pod.Name, &corev1.PodLogOptions{Container: "dev", Follow: true, Timestamps: true})
	stream, err := req.Stream(ctx)
	if err != nil {
		t.Fatalf("following the log of %s/%s: %v", w.ns, w.pod.Name, err)
	}
	out := make(chan sighting, 64)
	go func() {
		defer close(out)
		defer stream.Close()
		sc := bufio.NewScanner(stream)
		for sc.Scan() {
			stamp, line, ok := strings.Cut(sc.Text(), " ")
			at, err := time.Parse(time.RFC3339Nano, stamp)
			if !ok || err != nil || !strings.HasPrefix(line, "lib: ") {
				continue
			}
			select {
			case out <- sighting{at: at, first: strings.TrimPrefix(line, "lib: ")}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// TestUpdatesReachRunningWorkspace: the library ConfigMap changes (as an Argo CD sync would) and
// the running workspace sees each new content without a restart. It measures, for each of
// `updates` changes, the time from the update call to the moment the container first read the
// new content (the runtime's timestamp of the line it printed; it checks every 100 ms), and
// reports p50 and max with kubelet's sync settings.
func TestUpdatesReachRunningWorkspace(t *testing.T) {
	w := startExampleWorkspace(t, "team-b.yaml", "team-b-updates", "tilt-lib-v2")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := followLib(ctx, t, w)
	original := w.lib.Data["tilt_lib.star"]
	_, rest, _ := strings.Cut(original, "\n")
	if err := awaitFirstLine(seen, firstLine(original), time.Minute); err != nil {
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
		var err error
		if cm, err = inj.Client.CoreV1().ConfigMaps(w.ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		at, err := awaitLine(seen, first, time.Minute)
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
	p50, max := percentile(latencies, 50), slices.Max(latencies)
	t.Logf("ConfigMap update → running container sees it, %d updates: p50 %s, max %s (all: %v); kubelet syncFrequency %s, configMapAndSecretChangeDetectionStrategy Watch",
		updates, p50.Round(time.Millisecond), max.Round(time.Millisecond), rounded(latencies), node.SyncFrequency())
	logf("update latency over %d ConfigMap updates: p50 %s, max %s (kubelet syncFrequency %s, Watch)",
		updates, p50.Round(time.Millisecond), max.Round(time.Millisecond), node.SyncFrequency())
}

func firstLine(s string) string { first, _, _ := strings.Cut(s, "\n"); return first }

// awaitFirstLine waits for a sighting of first, whenever it was stamped.
func awaitFirstLine(seen <-chan sighting, first string, timeout time.Duration) error {
	_, err := awaitLine(seen, first, timeout)
	return err
}

// awaitLine waits for the sighting of first and returns its timestamp; sightings of other lines
// are skipped (the workspace reports every change it notices).
func awaitLine(seen <-chan sighting, first string, timeout time.Duration) (time.Time, error) {
	deadline := time.After(timeout)
	var last string
	for {
		select {
		case s, ok := <-seen:
			if !ok {
				return time.Time{}, fmt.Errorf("the log stream ended (last line %q)", last)
			}
			if s.first == first {
				return s.at, nil
			}
			last = s.first
		case <-deadline:
			return time.Time{}, fmt.Errorf("no %q within %s (last line %q)", first, timeout, last)
		}
	}
}

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
