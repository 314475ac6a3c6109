//go:build e2e

package e2e

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	regv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// The fault seam's contract (cmd/webhook/faults_on.go, compiled only with this build tag):
// reviews of Pods in namespaces with these prefixes fail on purpose. Re-declared here because the
// seam lives in package main.
const (
	faultTag         = "faultinject"
	faultLookup      = "fault-lookup-"
	faultPanic       = "fault-panic-"
	faultUndecodable = "fault-undecodable-"
)

const (
	// failureLabel marks the Pods of these tests: only the fault replica's registration selects
	// them, so the suite's webhook never sees them (and they never touch its ledger).
	failureLabel       = "e2e.tilt-lib.platform/failure"
	failureWebhookName = "failures.e2e.tilt-lib.platform"
)

// TestFailureSemantics proves, on the real API server, that every internal failure is a failed
// call and never a denial: under failurePolicy Fail the Pod is refused with the webhook's own
// message (and the API server says "failed calling webhook", not "denied the request"); under
// Ignore the Pod is created un-injected (and, on a replica whose caches synced, shows in the
// adoption gauge as configmap="none"). One cause per subtest, each counted by the replica with
// its reason:
//   - not_ready: a replica whose identity may not list Namespaces, so its caches never sync;
//   - decode_error: a Pod the slim decoder cannot read — the API server only ever sends a typed
//     v1 Pod, so no real Pod is one: the seam turns the review's containers into a number;
//   - cache_error: a Namespace lookup that fails, through the seam;
//   - panic: a lookup that panics, through the seam; the same replica then injects the next Pod.
func TestFailureSemantics(t *testing.T) {
	binary := faultBinary(t)
	t.Run("not_ready", func(t *testing.T) {
		kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
		if err := inj.UserKubeconfig(kubeconfig, "e2e-failure-unsynced"); err != nil {
			t.Fatal(err)
		}
		r := startReplica(t, binary, "unsynced", kubeconfig, failureLabel, false)
		ns := namespace(t, "unsynced", nil)
		r.prove(t, ns, "not_ready", "tilt-lib-injector: caches not synced yet")
	})
	t.Run("seam", func(t *testing.T) {
		r := startReplica(t, binary, "seam", "", failureLabel, true)
		for _, c := range []struct {
			prefix, reason, msg string
		}{
			{faultUndecodable, "decode_error", "tilt-lib-injector: request object is not a decodable v1 Pod"},
			{faultLookup, "cache_error", "tilt-lib-injector: reading Namespace " + faultLookup},
			{faultPanic, "panic", "tilt-lib-injector: internal error (panic: \"fault injected: a panic in the Namespace lookup\") [recovered]"},
		} {
			t.Run(c.reason, func(t *testing.T) {
				ns, err := inj.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
					ObjectMeta: metav1.ObjectMeta{GenerateName: c.prefix}}, metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				r.prove(t, ns.Name, c.reason, c.msg)
			})
		}
		// The panics were answered per request: the process is the same, and it still decides.
		if !r.w.Running() {
			t.Fatalf("the replica died; see %s", r.w.LogPath)
		}
		pod, err := inj.Client.CoreV1().Pods(namespace(t, "after-panic", nil)).Create(context.Background(), failurePod("after-panic"), metav1.CreateOptions{})
		if err != nil || pod.Annotations[harness.KeyStatus] == "" {
			t.Fatalf("after the panics the replica did not decide a Pod: %v, annotations %v", err, podAnnotations(pod))
		}
		log, err := os.ReadFile(r.w.LogPath)
		if err != nil {
			t.Fatal(err)
		}
		var panics []string
		for _, line := range strings.Split(string(log), "\n") {
			if strings.Contains(line, "recovered a panic") {
				panics = append(panics, line)
				if strings.Contains(line, `"uid":""`) || !strings.Contains(line, `"uid":"`) {
					t.Errorf("a panic logged without the request's uid: %.300s", line)
				}
			}
		}
		if len(panics) == 0 {
			t.Errorf("no panic logged in %s", r.w.LogPath)
		}
	})
}

// faultReplica is a `webhook serve` process on a loopback port of its own, with a certificate
// for it, registered by URL (its own MutatingWebhookConfiguration) for the Pods carrying one
// label, which is also its --workspace-selector: neither it nor the suite's webhook sees the
// other's Pods.
type faultReplica struct {
	w     *harness.Webhook
	cfg   string // its MutatingWebhookConfiguration
	ready bool   // its caches synced (its adoption gauges work)
}

var faultBuild struct {
	once sync.Once
	path string
	err  error
}

// faultBinary builds cmd/webhook with the fault seam, once per run.
func faultBinary(t *testing.T) string {
	t.Helper()
	faultBuild.once.Do(func() {
		root, err := harness.RepoRoot()
		if err != nil {
			faultBuild.err = err
			return
		}
		faultBuild.path = filepath.Join(inj.WorkDir, "bin", "webhook-"+faultTag)
		faultBuild.err = harness.GoBuild(context.Background(), root, "./cmd/webhook", faultBuild.path, faultTag)
	})
	if faultBuild.err != nil {
		t.Fatal(faultBuild.err)
	}
	return faultBuild.path
}

// startReplica starts binary as a replica for the Pods labelled label=true (waiting for /readyz
// when ready, else only for its webhook server), with extra flags, and registers it with
// failurePolicy Fail; both are undone when the test ends. An empty kubeconfig is the admin's.
func startReplica(t *testing.T, binary, name, kubeconfig, label string, ready bool, extra ...string) *faultReplica {
	t.Helper()
	ctx := context.Background()
	if kubeconfig == "" {
		kubeconfig = inj.Kubeconfig
	}
	cert, err := harness.WriteServingCert(filepath.Join(t.TempDir(), "certs"), []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port, err := harness.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr, probeAddr, err := harness.SideAddrs()
	if err != nil {
		t.Fatal(err)
	}
	svc := harness.Service{Name: inj.Service.Name, Namespace: inj.Service.Namespace, ClusterIP: net.IPv4(127, 0, 0, 1), Port: port}
	w := &harness.Webhook{
		Binary:      binary,
		Args:        harness.ServeArgs(kubeconfig, svc, cert.Dir, metricsAddr, probeAddr, append([]string{"--workspace-selector=" + label + "=true", "--log-level=debug"}, extra...)...),
		Addr:        svc.Addr(),
		ProbeAddr:   probeAddr,
		MetricsAddr: metricsAddr,
		LogPath:     filepath.Join(inj.WorkDir, "webhook-failure-"+name+".log"),
	}
	if ready {
		if err := w.Start(ctx, time.Minute); err != nil {
			t.Fatal(err)
		}
	} else if err := w.Launch(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Stop(30 * time.Second); err != nil {
			t.Errorf("stopping the %s replica: %v", name, err)
		}
	})
	if !ready {
		err := harness.Poll(ctx, shutdownDeadline, func(ctx context.Context) (bool, error) {
			_, body, err := w.Probe(ctx, "/readyz?verbose")
			return err == nil && strings.Contains(body, "[+]webhook ok") && strings.Contains(body, "[-]caches failed"), nil
		})
		if err != nil {
			t.Fatalf("the %s replica's webhook server never started unsynced: %v (log %s)", name, err, w.LogPath)
		}
	}

	r := &faultReplica{w: w, cfg: "e2e-failures-" + name, ready: ready}
	reg := &regv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: r.cfg},
		Webhooks: []regv1.MutatingWebhook{{
			Name: failureWebhookName,
			ClientConfig: regv1.WebhookClientConfig{
				URL:      ptr.To("https://" + w.Addr + harness.MutatePath),
				CABundle: cert.CABundle,
			},
			Rules: []regv1.RuleWithOperations{{
				Operations: []regv1.OperationType{regv1.Create},
				Rule:       regv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
			}},
			ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{label: "true"}},
			SideEffects:             ptr.To(regv1.SideEffectClassNoneOnDryRun),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To(int32(5)),
			FailurePolicy:           ptr.To(regv1.Fail),
		}},
	}
	api := inj.Client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	if _, err := api.Create(ctx, reg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := api.Delete(context.Background(), r.cfg, metav1.DeleteOptions{}); err != nil {
			t.Errorf("deleting %s: %v", r.cfg, err)
		}
	})
	return r
}

// prove shows one cause under both policies. Fail comes first: until the registration takes
// effect a Pod passes un-injected, which under Ignore would prove nothing; a refusal carrying
// our message can only come from the replica. Each real creation is counted by the replica
// exactly once, with reason (dry-run probes are not, except panics, which are counted always:
// the snapshot is taken after the probes).
func (r *faultReplica) prove(t *testing.T, ns, reason, msg string) {
	t.Helper()
	ctx := context.Background()
	podsAPI := inj.Client.CoreV1().Pods(ns)
	r.setPolicy(t, regv1.Fail)
	var last error
	err := harness.Poll(ctx, policyDeadline, func(ctx context.Context) (bool, error) {
		if _, err := inj.DryRunCreate(ctx, ns, failurePod("probe")); ctx.Err() == nil {
			last = err
		}
		return last != nil && strings.Contains(last.Error(), msg), nil
	})
	if err != nil {
		t.Fatalf("failurePolicy Fail never refused a probe with %q (last: %v): %v", msg, last, err)
	}

	before := r.scrape(t)
	_, err = podsAPI.Create(ctx, failurePod("ws-fail"), metav1.CreateOptions{})
	switch {
	case err == nil:
		t.Fatalf("Fail: the Pod was created although the webhook failed (%s)", reason)
	case !strings.Contains(err.Error(), `failed calling webhook "`+failureWebhookName+`"`) || !strings.Contains(err.Error(), msg):
		t.Errorf("Fail: the refusal is not a failed call carrying %q: %v", msg, err)
	case strings.Contains(err.Error(), "denied the request"):
		t.Errorf("Fail: the webhook denied the Pod: %v", err)
	}
	if _, getErr := podsAPI.Get(ctx, "ws-fail", metav1.GetOptions{}); !apierrors.IsNotFound(getErr) {
		t.Errorf("Fail: the refused Pod exists (get: %v)", getErr)
	}
	t.Logf("%s under Fail, the user sees: %v", reason, err)
	r.expectErrors(t, before, reason)

	r.setPolicy(t, regv1.Ignore)
	err = harness.Poll(ctx, policyDeadline, func(ctx context.Context) (bool, error) {
		_, last = inj.DryRunCreate(ctx, ns, failurePod("probe"))
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("failurePolicy Ignore never admitted a probe (last: %v): %v", last, err)
	}
	before = r.scrape(t)
	pod, err := podsAPI.Create(ctx, failurePod("ws-ignore"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("Ignore: the Pod was refused (%s): %v", reason, err)
	}
	assertNoneOf(t, pod, "annotation", pod.Annotations, harness.KeyStatus, harness.KeyInjected)
	assertNoneOf(t, pod, "label", pod.Labels, harness.KeyVersion, harness.KeyTemplatesVersion)
	assertUntouchedSpec(t, pod)
	r.expectErrors(t, before, reason)
	if r.ready {
		// What an operator sees of it: an un-injected workspace in the adoption gauge, which
		// TiltLibWorkspacesNotInjected watches (an unsynced replica has no gauges to show).
		waitWorkspacePods(t, r.w.MetricsAddr, map[string]float64{
			pods(ns, "tilt-lib", "none", ""):       1,
			pods(ns, "tilt-templates", "none", ""): 1,
		}, ns)
	}
}

// expectErrors waits until the replica counted exactly one more review, an error with reason.
func (r *faultReplica) expectErrors(t *testing.T, before harness.Snapshot, reason string) {
	t.Helper()
	r.expectDelta(t, before, harness.Expect{}.Add(harness.Review("error", reason), 1))
}

// expectDelta waits until the replica's counters moved by exactly want since before.
func (r *faultReplica) expectDelta(t *testing.T, before harness.Snapshot, want harness.Expect) {
	t.Helper()
	var bad []string
	err := harness.Poll(context.Background(), 5*time.Second, func(ctx context.Context) (bool, error) {
		after, err := harness.Scrape(ctx, r.w.MetricsAddr)
		if err != nil {
			return false, err
		}
		bad = want.Mismatches(before, after, counters...)
		return len(bad) == 0, nil
	})
	if err != nil {
		t.Errorf("the replica's counters (%v):\n  %s", err, strings.Join(bad, "\n  "))
	}
}

func (r *faultReplica) scrape(t *testing.T) harness.Snapshot {
	t.Helper()
	return scrapeAddr(t, r.w.MetricsAddr)
}

func (r *faultReplica) setPolicy(t *testing.T, policy regv1.FailurePolicyType) {
	t.Helper()
	api := inj.Client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	cfg, err := api.Get(context.Background(), r.cfg, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Webhooks[0].FailurePolicy = ptr.To(policy)
	if _, err := api.Update(context.Background(), cfg, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// failurePod is a Pod only the fault replica's registration selects.
func failurePod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{failureLabel: "true"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "dev", Image: "busybox"}}},
	}
}

func podAnnotations(p *corev1.Pod) map[string]string {
	if p == nil {
		return nil
	}
	return p.Annotations
}
