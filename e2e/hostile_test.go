//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// hostilePods is the least number of workspace Pods created while the connections are held.
const hostilePods = 20

// TestHostileConnectionsLeaveRealPodsInjected (issue 23): a replica with the chart's defaults
// (failurePolicy Ignore) behind its own registration, and 64 connections held open against its
// port by anything that reaches it — header-only with a 3 MiB Content-Length, slow trickles, full
// 3 MiB bodies short of their last byte, each reconnecting whenever it is answered or cut. Every
// workspace Pod created through the real API server meanwhile is injected. Before it, a Pod
// whose review is over the 3 MiB cap is admitted un-injected: a failed call, never a denial.
func TestHostileConnectionsLeaveRealPodsInjected(t *testing.T) {
	ctx := context.Background()
	s := newSelfCert(t, "hostile", 1, admissionv1.Ignore)
	s.launchAll(t)
	w := s.replicas[0]
	proxy, err := harness.StartProxy(s.svc.Addr(), w.Addr) // kube-proxy's job
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	workspace := func(name string) *corev1.Pod {
		p := harness.WorkspacePod("", nil)
		p.GenerateName = name + "-"
		p.Labels = map[string]string{selfCertLabel: s.ns}
		return p
	}
	err = harness.Poll(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		created, err := inj.DryRunCreate(ctx, s.podNS, workspace("probe"))
		return err == nil && created.Annotations[harness.KeyStatus] == "injected", nil
	})
	if err != nil {
		t.Fatalf("the replica never injected (log %s): %v", w.LogPath, err)
	}

	overCapIsAFailedCall(t, s, w, workspace("over-cap"))

	bundle, err := inj.CABundle(ctx, s.cfgName)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(bundle)
	tlsCfg := &tls.Config{RootCAs: roots, ServerName: s.serverName(), MinVersion: tls.VersionTLS12}
	before := scrapeAddr(t, w.MetricsAddr)
	attackCtx, stopAttack := context.WithCancel(ctx)
	var wg sync.WaitGroup
	attackers := make([]*reviewtest.Attacker, 64)
	for i := range attackers {
		a := &reviewtest.Attacker{Kind: reviewtest.Hostile(i % 3), Addr: w.Addr, TLS: tlsCfg, BodyBytes: review.MaxBodyBytes - 1}
		attackers[i] = a
		wg.Add(1)
		go func() { defer wg.Done(); a.Run(attackCtx) }()
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			stopAttack()
			wg.Wait()
		}
	}
	t.Cleanup(stop)
	deadline := time.After(2 * time.Minute)
	for i, a := range attackers {
		select {
		case <-a.Held():
		case <-deadline:
			t.Fatalf("only %d of 64 hostile connections were ever held", i)
		}
	}

	// Pods are created until every attacker has been cut or answered and has come back.
	reconnected := func() bool {
		for _, a := range attackers {
			if a.Opened() < 2 {
				return false
			}
		}
		return true
	}
	var peakRSS, peakHeap float64
	created := 0
	for ; created < hostilePods || !reconnected(); created++ {
		select {
		case <-deadline:
			t.Fatalf("after %d Pods, not every attacker has reconnected", created)
		default:
		}
		pod, _ := createPod(t, s.podNS, workspace("ws"))
		if got := pod.Annotations[harness.KeyStatus]; got != "injected" {
			t.Fatalf("Pod %d (%s) created while hostile connections were held: status %q, want injected (log %s)", created, pod.Name, got, w.LogPath)
		}
		sn := scrapeAddr(t, w.MetricsAddr)
		peakRSS = max(peakRSS, sn.Get(harness.Series{Name: "process_resident_memory_bytes"}))
		peakHeap = max(peakHeap, sn.Get(harness.Series{Name: "go_memstats_heap_inuse_bytes"}))
	}
	stop()

	after := scrapeAddr(t, w.MetricsAddr)
	if got := after.Get(harness.Review("injected", "none")) - before.Get(harness.Review("injected", "none")); got != float64(created) {
		t.Errorf("%g reviews counted injected for %d Pods", got, created)
	}
	t.Logf("%d workspace Pods created and injected while 64 hostile connections were held (%d connections made in all)",
		created, opened(attackers))
	t.Logf("the replica refused or cut: %s", errorReasons(before, after))
	t.Logf("replica memory: RSS %.1f MiB before, peak %.1f MiB; heap in use %.1f MiB before, peak %.1f MiB",
		before.Get(harness.Series{Name: "process_resident_memory_bytes"})/(1<<20), peakRSS/(1<<20),
		before.Get(harness.Series{Name: "go_memstats_heap_inuse_bytes"})/(1<<20), peakHeap/(1<<20))
}

// overCapIsAFailedCall creates pod with an env value of 600,000 '<' (stored as that many bytes,
// written into the review as six-byte \u003c escapes: a 3.4 MiB review): the replica answers
// 413 unread, counted as body_too_large, and the API server admits the Pod as it is.
func overCapIsAFailedCall(t *testing.T, s *selfCert, w *harness.Webhook, pod *corev1.Pod) {
	t.Helper()
	ctx := context.Background()
	pod.Spec.Containers[0].Env = append(pod.Spec.Containers[0].Env, corev1.EnvVar{Name: "FILLER", Value: strings.Repeat("<", 600_000)})
	pb := rest.CopyConfig(inj.Config)
	pb.ContentType = "application/vnd.kubernetes.protobuf" // as JSON the request itself would be 3.4 MiB, over the API server's limit
	client, err := kubernetes.NewForConfig(pb)
	if err != nil {
		t.Fatal(err)
	}
	before := scrapeAddr(t, w.MetricsAddr)
	created, err := client.CoreV1().Pods(s.podNS).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("a Pod whose review is over the cap was refused: %v", err)
	}
	if got, ok := created.Annotations[harness.KeyStatus]; ok {
		t.Fatalf("a Pod whose review is over the cap: status %q, want none (not reviewed)", got)
	}
	tooLarge := harness.Review("error", string(review.ReasonBodyTooLarge))
	if got := scrapeAddr(t, w.MetricsAddr).Get(tooLarge) - before.Get(tooLarge); got != 1 {
		t.Fatalf("body_too_large moved by %g, want 1", got)
	}
}

func scrapeAddr(t *testing.T, addr string) harness.Snapshot {
	t.Helper()
	sn, err := harness.Scrape(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return sn
}

func opened(as []*reviewtest.Attacker) int64 {
	var n int64
	for _, a := range as {
		n += a.Opened()
	}
	return n
}

// errorReasons lists how tiltlib_admission_reviews_total{result="error"} moved, by reason.
func errorReasons(before, after harness.Snapshot) string {
	var parts []string
	for _, r := range []mutate.Reason{review.ReasonRequestTimeout, review.ReasonBodyBudget, review.ReasonBodyTooLarge, review.ReasonOverloaded} {
		s := harness.Review("error", string(r))
		parts = append(parts, fmt.Sprintf("%s %g", r, after.Get(s)-before.Get(s)))
	}
	return strings.Join(parts, ", ")
}
