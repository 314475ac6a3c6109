//go:build e2e

package node

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// The steady load TestRollingUpgradeLosesNoCreation keeps up: a workspace Deployment every
// deploymentEvery, a (dry-run) workspace Pod straight through the API server every podEvery.
const (
	deploymentEvery = 500 * time.Millisecond
	podEvery        = 100 * time.Millisecond
	// loadLabel tells each load Deployment's Pods apart (and keeps their selectors disjoint).
	loadLabel = "e2e.tilt-lib/load"
)

// TestRollingUpgradeLosesNoCreation: with failurePolicy Fail, workspaces are created at a steady
// rate while the injector is (1) upgraded with helm, changing an argument, which rolls both Pods,
// and (2) drained, both Pods evicted as `kubectl drain` does. Not one creation may fail or go
// un-injected: the chart's readiness probe keeps a new Pod out of the Service's endpoints until it
// serves, its preStop pause keeps a terminating Pod serving while the API server drops it from
// them, its grace period lets in-flight reviews finish, and its PodDisruptionBudget refuses the
// second eviction until a replacement is Ready. Counted: the ReplicaSet controller's FailedCreate
// Events, Pods of those Deployments without the injection, and the errors and un-injected answers
// of the direct Pod creates.
func TestRollingUpgradeLosesNoCreation(t *testing.T) {
	ctx := context.Background()
	failValues := []string{"--set", "webhook.failurePolicy=Fail"}
	if err := chart.Upgrade(ctx, failValues...); err != nil {
		t.Fatal(err)
	}
	defer func() { // back to Ignore; the debug log level stays (changing it would roll the Pods again)
		if err := chart.Upgrade(ctx, "--set", "logLevel=debug"); err != nil {
			t.Errorf("restoring failurePolicy Ignore: %v", err)
		}
	}()
	assertFailurePolicyFail(t)

	d := seedExample(t, "team-b.yaml", "team-b-rollout")
	// Admission is what is measured: the Pods stay Pending (no node matches), sparing the node
	// dozens of containers.
	d.Spec.Template.Spec.NodeSelector = map[string]string{"e2e.tilt-lib/never": "true"}
	l := &load{ns: d.Namespace, tmpl: d}
	stop := l.start(ctx)
	defer stop()
	l.await(t, 5)
	before := podNames(t)

	start := time.Now()
	if err := chart.Upgrade(ctx, append(failValues, "--set", "logLevel=debug")...); err != nil {
		t.Fatal(err)
	}
	if err := chart.WaitRolledOut(ctx, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	rollout := time.Since(start)
	after := podNames(t)
	for name := range before {
		if after[name] {
			t.Fatalf("the upgrade did not replace injector Pod %s: before %v, after %v", name, before, after)
		}
	}
	start = time.Now()
	refused := drain(t)
	drained := time.Since(start)
	l.await(t, len(l.snapshot().deployments)+5)
	stop()

	s := l.snapshot()
	failedCreate, uninjected := l.verifyDeployments(t)
	t.Logf("rolling upgrade %s, drain %s (second eviction refused %d times by the PodDisruptionBudget); "+
		"%d Deployments created: %d FailedCreate, %d Pods un-injected; %d direct Pod creates: %d errors, %d un-injected",
		rollout.Round(time.Millisecond), drained.Round(time.Millisecond), refused, len(s.deployments), failedCreate, uninjected,
		s.podAttempts, s.podErrors, s.podUninjected)
	logf("rolling upgrade (failurePolicy Fail) %s, drain %s: %d Deployments (%d FailedCreate, %d un-injected), %d Pod creates (%d errors, %d un-injected)",
		rollout.Round(time.Millisecond), drained.Round(time.Millisecond), len(s.deployments), failedCreate, uninjected,
		s.podAttempts, s.podErrors, s.podUninjected)
	if s.podErrors+s.podUninjected > 0 {
		t.Errorf("%d direct Pod creates failed and %d came back un-injected during the rollout and drain; first: %v",
			s.podErrors, s.podUninjected, s.firstErrs)
	}
	if refused == 0 {
		t.Error("the PodDisruptionBudget never refused an eviction: the drain never left the injector with one Pod")
	}
}

// assertFailurePolicyFail: the chart's registration now says Fail (helm applied it).
func assertFailurePolicyFail(t *testing.T) {
	t.Helper()
	cfg, err := inj.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(context.Background(), chart.FullName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Webhooks[0].FailurePolicy; p == nil || *p != "Fail" {
		t.Fatalf("failurePolicy %v after helm upgrade, want Fail", p)
	}
}

// podNames are the names of the chart's Pods, which must be two and Ready.
func podNames(t *testing.T) map[string]bool {
	t.Helper()
	pods, err := chart.ReadyPods(context.Background())
	if err != nil || len(pods) != 2 {
		t.Fatalf("%d Ready injector Pods (%v), want 2", len(pods), err)
	}
	return map[string]bool{pods[0].Name: true, pods[1].Name: true}
}

// drain evicts both injector Pods as `kubectl drain` does: the first goes at once, the second is
// retried while the PodDisruptionBudget refuses it (429). It returns how often it was refused, once
// the replacements have rolled out.
func drain(t *testing.T) (refused int) {
	t.Helper()
	ctx := context.Background()
	pods, err := chart.ReadyPods(ctx)
	if err != nil || len(pods) != 2 {
		t.Fatalf("%d Ready injector Pods before the drain (%v), want 2", len(pods), err)
	}
	evict := func(p corev1.Pod) error {
		return inj.Client.CoreV1().Pods(p.Namespace).EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace}})
	}
	if err := evict(pods[0]); err != nil {
		t.Fatalf("evicting %s with both injector Pods Ready: %v", pods[0].Name, err)
	}
	err = harness.Poll(ctx, 2*time.Minute, func(context.Context) (bool, error) {
		err := evict(pods[1])
		if apierrors.IsTooManyRequests(err) {
			refused++
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("evicting %s: %v", pods[1].Name, err)
	}
	if err := chart.WaitRolledOut(ctx, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	return refused
}

// load creates workspace Deployments (from tmpl) and dry-run workspace Pods in ns at a steady
// rate until stopped, and counts what happened to them.
type load struct {
	ns   string
	tmpl *appsv1.Deployment
	mu   sync.Mutex
	loadCounts
}

type loadCounts struct {
	deployments                           []string
	podAttempts, podErrors, podUninjected int
	firstErrs                             []string
}

func (l *load) snapshot() loadCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.loadCounts
	c.deployments = append([]string(nil), c.deployments...)
	return c
}

// start runs the two creators; the returned stop ends them and waits (safe to call twice).
func (l *load) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); every(ctx, deploymentEvery, l.createDeployment) }()
	go func() { defer wg.Done(); every(ctx, podEvery, l.createPod) }()
	return func() { cancel(); wg.Wait() }
}

// every calls f each period until ctx ends (a steady rate, not a wait).
func every(ctx context.Context, period time.Duration, f func(context.Context)) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			f(ctx)
		}
	}
}

func (l *load) createDeployment(ctx context.Context) {
	d := l.tmpl.DeepCopy()
	l.mu.Lock()
	d.Name = fmt.Sprintf("ws-%03d", len(l.deployments))
	l.mu.Unlock()
	d.Spec.Selector.MatchLabels[loadLabel] = d.Name
	d.Spec.Template.Labels[loadLabel] = d.Name
	if _, err := inj.Client.AppsV1().Deployments(l.ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		if ctx.Err() == nil {
			l.fail("creating Deployment " + d.Name + ": " + err.Error()) // no webhook sees Deployments
		}
		return
	}
	l.mu.Lock()
	l.deployments = append(l.deployments, d.Name)
	l.mu.Unlock()
}

func (l *load) createPod(ctx context.Context) {
	pod, err := inj.DryRunCreate(ctx, l.ns, harness.WorkspacePod("load", nil))
	if ctx.Err() != nil {
		return // stopped mid-call: not counted
	}
	l.mu.Lock()
	l.podAttempts++
	l.mu.Unlock()
	switch {
	case err != nil:
		l.fail("Pod create: " + err.Error())
		l.mu.Lock()
		l.podErrors++
		l.mu.Unlock()
	case pod.Annotations[harness.KeyStatus] == "":
		l.fail("Pod create: admitted without " + harness.KeyStatus)
		l.mu.Lock()
		l.podUninjected++
		l.mu.Unlock()
	}
}

func (l *load) fail(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.firstErrs) < 5 {
		l.firstErrs = append(l.firstErrs, time.Now().Format("15:04:05.000")+" "+msg)
	}
}

// await waits until n Deployments have been created.
func (l *load) await(t *testing.T, n int) {
	t.Helper()
	err := harness.Poll(context.Background(), time.Minute, func(context.Context) (bool, error) {
		return len(l.snapshot().deployments) >= n, nil
	})
	if err != nil {
		t.Fatalf("the load created %d Deployments, want %d: %v (%v)", len(l.snapshot().deployments), n, err, l.snapshot().firstErrs)
	}
}

// verifyDeployments waits until every load Deployment has its Pod, and returns the
// FailedCreate Events of the namespace and the Pods without the injection; it fails the test on
// either.
func (l *load) verifyDeployments(t *testing.T) (failedCreate, uninjected int) {
	t.Helper()
	ctx := context.Background()
	want := len(l.snapshot().deployments)
	var pods *corev1.PodList
	err := harness.Poll(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
		var err error
		pods, err = inj.Client.CoreV1().Pods(l.ns).List(ctx, metav1.ListOptions{LabelSelector: loadLabel})
		return err == nil && len(pods.Items) >= want, err
	})
	if err != nil {
		t.Fatalf("%d Pods for %d load Deployments: %v (events: %s)", len(pods.Items), want, err, events(l.ns))
	}
	for _, p := range pods.Items {
		if rec, ok, err := harness.InjectedRecord(&p); err != nil || !ok || rec.Lib == nil {
			uninjected++
			t.Errorf("Pod %s of Deployment %s not injected: %+v %v %v", p.Name, p.Labels[loadLabel], rec, ok, err)
		}
	}
	evs, err := inj.Client.CoreV1().Events(l.ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=FailedCreate"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Items {
		failedCreate += max(1, int(e.Count))
		t.Errorf("FailedCreate %s/%s ×%d: %s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Count, e.Message)
	}
	return failedCreate, uninjected
}
