//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/rollout"
)

// The rollout scenario's Pods carry rolloutLabel (the replicas' selector, not the suite
// webhook's) and the workspace ids of the oracle table.
const (
	rolloutLabel      = "e2e-rollout"
	rolloutWorkspaces = 200
	rolloutSalt       = "tilt-lib-v3"
	reshuffledSalt    = "tilt-lib-v3-reshuffled"
	// rolloutWorkers bounds the concurrent creates: loopback, 2 cores.
	rolloutWorkers = 8
)

func workspaceID(i int) string { return fmt.Sprintf("00000000-0000-0000-0000-%012d", i) }

// bucketOracle reads pkg/rollout/testdata/buckets.tsv, written by buckets.py (Python, from the
// spec): salt -> key -> bucket. Our Go code computes none of these numbers.
func bucketOracle(t *testing.T) map[string]map[string]int {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(root, "pkg", "rollout", "testdata", "buckets.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		fs := strings.Split(sc.Text(), "\t")
		b, err := strconv.Atoi(fs[2])
		if err != nil {
			t.Fatalf("buckets.tsv: %q: %v", sc.Text(), err)
		}
		if out[fs[0]] == nil {
			out[fs[0]] = map[string]int{}
		}
		out[fs[0]][fs[1]] = b
	}
	for _, salt := range []string{rolloutSalt, reshuffledSalt} {
		if len(out[salt]) < rolloutWorkspaces {
			t.Fatalf("buckets.tsv has %d keys for salt %s, want the %d workspace ids", len(out[salt]), salt, rolloutWorkspaces)
		}
	}
	return out
}

// below is the set of workspace indexes whose oracle bucket under salt is below basis.
func below(oracle map[string]map[string]int, salt string, basis int) map[int]bool {
	out := map[int]bool{}
	for i := 1; i <= rolloutWorkspaces; i++ {
		if oracle[salt][workspaceID(i)] < basis {
			out[i] = true
		}
	}
	return out
}

func rolloutDocument(percent, salt string) string {
	doc := "aliases: {stable: v2}\nrollouts:\n- name: tilt-lib-v3\n  from: stable\n  to: v3\n  components: [tilt-lib]\n  percent: \"" + percent + "\"\n"
	if salt != "" {
		doc += "  salt: " + salt + "\n"
	}
	return doc
}

// rolloutPod is workspace i's Pod; a dry run's is named apart (a dry-run create of a name that
// exists is refused), with the same workspace id: the key, not the name, decides.
func rolloutPod(i int, dryRun bool) *corev1.Pod {
	name := fmt.Sprintf("ws-%03d", i)
	if dryRun {
		name = "dry-" + name
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			rolloutLabel: "true", rollout.LabelWorkspaceID: workspaceID(i),
		}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "dev", Image: "busybox"}}},
	}
}

// placed is where one creation put a workspace's tilt-lib.
type placed struct {
	configMap string
	source    mutate.Source
	rollout   mutate.RecordRollout
}

func placement(t *testing.T, p *corev1.Pod) placed {
	t.Helper()
	raw := p.Annotations[harness.Prefix+mutate.KeyInjected]
	var rec mutate.Record
	if err := rec.UnmarshalJSON([]byte(raw)); err != nil {
		t.Fatalf("%s: injected record %q: %v", p.Name, raw, err)
	}
	c := rec.Component(mutate.LibVolume)
	if c == nil || c.Rollout == nil {
		t.Fatalf("%s: record %s has no tilt-lib rollout entry", p.Name, raw)
	}
	return placed{c.ConfigMap, c.Source, *c.Rollout}
}

// createAll creates (or, with dryRun, dry-run creates) the 200 workspaces' Pods, rolloutWorkers at
// a time, and returns each one's placement by workspace index.
func createAll(t *testing.T, ns string, dryRun bool) map[int]placed {
	t.Helper()
	ctx := context.Background()
	out := make(map[int]placed, rolloutWorkspaces)
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan int)
	for range rolloutWorkers {
		wg.Go(func() {
			for i := range work {
				var p *corev1.Pod
				var err error
				if dryRun {
					p, err = inj.DryRunCreate(ctx, ns, rolloutPod(i, true))
				} else {
					p, err = inj.Client.CoreV1().Pods(ns).Create(ctx, rolloutPod(i, false), metav1.CreateOptions{})
				}
				if err != nil {
					t.Errorf("creating workspace %d (dry run %t): %v", i, dryRun, err)
					continue
				}
				pl := placement(t, p)
				mu.Lock()
				out[i] = pl
				mu.Unlock()
			}
		})
	}
	for i := 1; i <= rolloutWorkspaces; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// deleteAll deletes the workspaces' Pods (no node: they go at once) and waits until they are gone.
func deleteAll(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	pods := inj.Client.CoreV1().Pods(ns)
	if err := pods.DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}, metav1.ListOptions{LabelSelector: rolloutLabel + "=true"}); err != nil {
		t.Fatal(err)
	}
	err := harness.Poll(ctx, gaugeDeadline, func(ctx context.Context) (bool, error) {
		l, err := pods.List(ctx, metav1.ListOptions{LabelSelector: rolloutLabel + "=true"})
		return err == nil && len(l.Items) == 0, err
	})
	if err != nil {
		t.Fatalf("the workspaces' Pods never went: %v", err)
	}
}

// canaries is the set of workspaces a phase put in the canary, checking every placement against
// the oracle: the canary mounts tilt-lib-v3 from the rollout, the baseline tilt-lib-v2 from the
// namespace, each with the oracle's bucket under salt and the threshold basis.
func canaries(t *testing.T, phase string, got map[int]placed, oracle map[string]map[string]int, salt string, basis int) map[int]bool {
	t.Helper()
	out := map[int]bool{}
	for i, p := range got {
		want := oracle[salt][workspaceID(i)]
		if p.rollout.Name != "tilt-lib-v3" || p.rollout.Bucket != want || p.rollout.Threshold != basis {
			t.Errorf("%s: workspace %d recorded %+v, want rollout tilt-lib-v3 bucket %d (oracle) threshold %d", phase, i, p.rollout, want, basis)
		}
		switch {
		case p.rollout.Arm == rollout.ArmCanary && p.configMap == "tilt-lib-v3" && p.source == mutate.SourceRollout:
			out[i] = true
		case p.rollout.Arm == rollout.ArmBaseline && p.configMap == "tilt-lib-v2" && p.source == mutate.SourceNamespace:
		default:
			t.Errorf("%s: workspace %d: %+v is neither the canary nor the baseline", phase, i, p)
		}
	}
	return out
}

func sameSet(t *testing.T, phase string, got, want map[int]bool) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("%s: canaries %v, the oracle's %v", phase, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
}

// TestRolloutOf200Workspaces: two replicas (each registered for the scenario's Pods, failurePolicy
// Fail: every creation passes both) serve one live document on the real API server while it
// moves 200 workspaces with distinct com.coder.workspace.id through a rollout of tilt-lib from
// stable (v2) to v3: 0 %, 10 %, 20 %, a new salt, and back to 0 %. The canaries are exactly the
// workspaces whose bucket the oracle table (Python) puts below the threshold; a recreated Pod keeps
// its arm; 20 % holds every 10 % canary; a new salt reshuffles; 0 % sends new Pods back. The second
// replica agrees with the first on every real creation (it finds each Pod already injected).
func TestRolloutOf200Workspaces(t *testing.T) {
	ctx := context.Background()
	oracle := bucketOracle(t)
	ns := namespace(t, "rollout", map[string]string{harness.KeyVersion: "stable"}, "tilt-lib-v2", "tilt-lib-v3", "tilt-templates")
	cm := fmt.Sprintf("e2e-rollout-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		_ = inj.Client.CoreV1().ConfigMaps(inj.Service.Namespace).Delete(context.Background(), cm, metav1.DeleteOptions{})
	})
	doc := rolloutDocument("0", "")
	putDocument(t, cm, doc)
	versionsFlag := "--versions-configmap=" + inj.Service.Namespace + "/" + cm
	a := startReplica(t, inj.Webhook.Binary, "rollout-a", "", rolloutLabel, true, versionsFlag)
	b := startReplica(t, inj.Webhook.Binary, "rollout-b", "", rolloutLabel, true, versionsFlag)
	replicas := []*harness.Webhook{a.w, b.w}
	// switchTo puts a document and waits until both replicas serve it; it returns the latency.
	switchTo := func(d string) time.Duration {
		start := time.Now()
		putDocument(t, cm, d)
		hash := documentHash(d)
		var last string
		err := harness.Poll(ctx, gaugeDeadline, func(ctx context.Context) (bool, error) {
			for _, w := range replicas {
				ok, why, err := servesDocument(ctx, w, hash, 1)
				if err != nil || !ok {
					last = why
					return false, err
				}
			}
			return true, nil
		})
		if err != nil {
			t.Fatalf("the replicas never served %q: %v: %s", d, err, last)
		}
		return time.Since(start)
	}
	switchTo(doc)

	// 0 %: 200 real workspaces, every one on the baseline, each recording the oracle's bucket.
	running := createAll(t, ns, false)
	if c := canaries(t, "0 %", running, oracle, rolloutSalt, 0); len(c) != 0 {
		t.Errorf("0 %%: %d canaries", len(c))
	}
	// The gauges, read from each replica's Pod cache against the document in force, at each step.
	gauges := func(phase string, percent float64, want armCounts) time.Duration {
		return expectRolloutGauges(t, phase, replicas, "tilt-lib-v3", "tilt-lib", percent, want)
	}
	gauges("0 %", 0, armCounts{"baseline": rolloutWorkspaces})

	// 10 %: the canaries are the oracle's buckets below 1000; recreated, each keeps its arm.
	var latencies []time.Duration
	latencies = append(latencies, switchTo(rolloutDocument("10", "")))
	ten := canaries(t, "10 % (dry run)", createAll(t, ns, true), oracle, rolloutSalt, 1000)
	sameSet(t, "10 %", ten, below(oracle, rolloutSalt, 1000))
	// The running workspaces were placed at 0 %: the 10 % canaries among them are pending.
	gauges("10 %, placed at 0 %", 10, splitArms(rolloutWorkspaces, nil, ten))
	deleteAll(t, ns)
	running = createAll(t, ns, false)
	sameSet(t, "10 %, recreated", canaries(t, "10 % (recreated)", running, oracle, rolloutSalt, 1000), ten)
	gauges("10 %, recreated", 10, splitArms(rolloutWorkspaces, ten, ten))
	if len(ten) == 0 || len(ten) == rolloutWorkspaces {
		t.Fatalf("10 %% put %d of %d workspaces in the canary: the scenario proves nothing", len(ten), rolloutWorkspaces)
	}
	// A canary's creator is told how to stay on the baseline.
	wc, warnings, err := harness.WarningClient(inj.Config)
	if err != nil {
		t.Fatal(err)
	}
	first := slices.Min(slices.Collect(maps.Keys(ten)))
	if _, err := wc.CoreV1().Pods(ns).Create(ctx, rolloutPod(first, true), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(warnings.Take(), "\n"); !strings.Contains(w, "to stay on v2, annotate the Pod or its namespace "+harness.KeyVersion+"=v2") || !strings.Contains(w, string(mutate.ReasonRolloutCanary)) {
		t.Errorf("the canary's warnings do not say how to pin the baseline: %q", w)
	}

	// 20 %: a superset of 10 %.
	latencies = append(latencies, switchTo(rolloutDocument("20", "")))
	twenty := canaries(t, "20 %", createAll(t, ns, true), oracle, rolloutSalt, 2000)
	sameSet(t, "20 %", twenty, below(oracle, rolloutSalt, 2000))
	for i := range ten {
		if !twenty[i] {
			t.Errorf("workspace %d is a canary at 10 %% but not at 20 %%", i)
		}
	}
	gauges("20 %, placed at 10 %", 20, splitArms(rolloutWorkspaces, ten, twenty))

	// A new salt at 10 %: the oracle's other canaries.
	latencies = append(latencies, switchTo(rolloutDocument("10", reshuffledSalt)))
	reshuffled := canaries(t, "new salt", createAll(t, ns, true), oracle, reshuffledSalt, 1000)
	sameSet(t, "new salt", reshuffled, below(oracle, reshuffledSalt, 1000))
	if maps.Equal(reshuffled, ten) {
		t.Errorf("the new salt gave the same canaries as the old one")
	}
	gauges("new salt, placed with the old", 10, splitArms(rolloutWorkspaces, ten, reshuffled))

	// 0 %: new Pods go back to the baseline; the running canaries stay until they restart.
	latencies = append(latencies, switchTo(rolloutDocument("0", "")))
	if c := canaries(t, "back to 0 %", createAll(t, ns, true), oracle, rolloutSalt, 0); len(c) != 0 {
		t.Errorf("back to 0 %%: %d new Pods in the canary", len(c))
	}
	stillCanary := 0
	for i := range ten {
		p, err := inj.Client.CoreV1().Pods(ns).Get(ctx, rolloutPod(i, false).Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if placement(t, p).configMap == "tilt-lib-v3" {
			stillCanary++
		}
	}
	if stillCanary != len(ten) {
		t.Errorf("%d of the %d running canaries still mount v3 after the rollback: running Pods must never be touched", stillCanary, len(ten))
	}
	// The rollback: reverted is exactly the canaries still running.
	gauges("back to 0 %", 0, armCounts{"reverted": len(ten), "baseline": rolloutWorkspaces - len(ten)})

	// Both replicas decided every real creation: the first injected, the second found the Pod
	// already carrying what it would give (a disagreement would be a rewrite, counted injected).
	for _, c := range []struct {
		w      *harness.Webhook
		reason mutate.Reason
		result mutate.Outcome
	}{{a.w, mutate.ReasonNone, mutate.OutcomeInjected}, {b.w, mutate.ReasonAlreadyInjected, mutate.OutcomeSkipped}} {
		sn := scrapeAddr(t, c.w.MetricsAddr)
		got := sn.Get(harness.Series{Name: "tiltlib_admission_reviews_total", Labels: map[string]string{"result": string(c.result), "reason": string(c.reason)}})
		if got != 2*rolloutWorkspaces {
			t.Errorf("%s counted %g reviews %s/%s, want %d (every real creation): %v", c.w.Addr, got, c.result, c.reason, 2*rolloutWorkspaces, seriesOf(sn, "tiltlib_admission_reviews_total", ""))
		}
	}
	t.Logf("10 %%: %d canaries, 20 %%: %d, new salt: %d; document changes reached both replicas in %v", len(ten), len(twenty), len(reshuffled), latencies)
	deleteAll(t, ns)
	if _, err := inj.Client.CoreV1().Pods(ns).Get(ctx, rolloutPod(1, false).Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("workspace 1 still exists after the cleanup: %v", err)
	}
}
