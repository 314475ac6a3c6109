//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/lookup"
)

// gitopsNamespaces is how many namespaces TestNamespaceCreatedWithItsFirstWorkspace creates, each
// with its pin and, at once, its first workspace.
const gitopsNamespaces = 100

// namespaceReads is the read-through counter (tiltlib_namespace_reads_total) of one result.
func namespaceReads(result string) harness.Series {
	return harness.Series{Name: "tiltlib_namespace_reads_total", Labels: map[string]string{"result": result}}
}

// gitopsLabel marks the workspaces of TestNamespaceCreatedWithItsFirstWorkspace: only its
// lagging replica selects them.
const gitopsLabel = "e2e.tilt-lib.platform/gitops"

// watchLag is how late every byte from the API server reaches the lagging replica: its watch
// delivers a new namespace that much after it exists, as on a loaded API server or a replica far
// from it. The webhook's timeoutSeconds (5 s) leaves room for the read-through, which lags too.
const watchLag = 500 * time.Millisecond

// TestNamespaceCreatedWithItsFirstWorkspace: GitOps creates a team namespace with its pin and a
// workspace in the same sync, so the workspace's review can arrive before the watch delivered the
// namespace. Here the replica's connection to the API server lags by watchLag (a TCP proxy), so
// each review does. A miss is read from the API server once, so every workspace gets the pin
// (before: the server default, silently); the second workspace of each namespace is answered
// from the cache, with no read at all.
func TestNamespaceCreatedWithItsFirstWorkspace(t *testing.T) {
	ctx := context.Background()
	kubeconfig := lagKubeconfig(t, watchLag)
	r := startReplica(t, inj.Webhook.Binary, "lagging", kubeconfig, gitopsLabel, true)
	prefix := fmt.Sprintf("e2e-gitops-%d-", r.w.PID())
	names := make([]string, gitopsNamespaces)
	for i := range names {
		names[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	// The registration is in effect once a probe comes back decided.
	err := harness.Poll(ctx, policyDeadline, func(ctx context.Context) (bool, error) {
		p, err := inj.DryRunCreate(ctx, harness.ProbeNamespace, gitopsPod("probe"))
		return err == nil && p.Annotations[harness.KeyStatus] != "", nil
	})
	if err != nil {
		t.Fatalf("the lagging replica's registration never took effect: %v", err)
	}
	// No ConfigMap is published in these namespaces: the pin still decides which one is mounted
	// (source namespace), and both components are counted as missing.
	perPod := harness.Expect{}.
		Add(harness.Injection("tilt-lib", "missing", "", "namespace"), 1).
		Add(harness.Injection("tilt-templates", "missing", "", "default"), 1).
		Add(harness.Review("injected", "configmap_missing"), 1)
	all := harness.Expect{}
	for range gitopsNamespaces {
		all.Merge(perPod)
	}

	before := r.scrape(t)
	var mu sync.Mutex
	var wrong []string
	forEach(t, names, func(ns string) error {
		if _, err := inj.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: ns, Annotations: map[string]string{harness.KeyVersion: "v2"}}}, metav1.CreateOptions{}); err != nil {
			return err
		}
		pod, err := inj.Client.CoreV1().Pods(ns).Create(ctx, gitopsPod("ws-first"), metav1.CreateOptions{})
		if err != nil {
			return err
		}
		if rec, ok, err := harness.InjectedRecord(pod); err != nil || !ok || rec.Lib == nil || rec.Lib.ConfigMap != "tilt-lib-v2" || rec.Lib.Source != "namespace" {
			mu.Lock()
			wrong = append(wrong, fmt.Sprintf("%s: %s", ns, pod.Annotations[harness.KeyInjected]))
			mu.Unlock()
		}
		return nil
	})
	if len(wrong) > 0 {
		t.Errorf("%d of %d first workspaces did not get their namespace's pin v2:\n%s", len(wrong), gitopsNamespaces, strings.Join(wrong, "\n"))
	}
	r.expectDelta(t, before, all)
	after := r.scrape(t)
	found := after.Get(namespaceReads(lookup.ReadFound)) - before.Get(namespaceReads(lookup.ReadFound))
	t.Logf("%d of %d first workspaces were reviewed before the watch delivered their namespace (read through)", int(found), gitopsNamespaces)
	if found == 0 {
		t.Errorf("no review missed the cache: with a watch lagging %s this test no longer exercises the read-through", watchLag)
	}
	for _, res := range []string{lookup.ReadNotFound, lookup.ReadError, lookup.ReadTimeout} {
		if d := after.Get(namespaceReads(res)) - before.Get(namespaceReads(res)); d != 0 {
			t.Errorf("%v namespace reads with result %s", d, res)
		}
	}

	// Every namespace is known now: no read at all for the next workspace of each.
	before = r.scrape(t)
	forEach(t, names, func(ns string) error {
		pod, err := inj.Client.CoreV1().Pods(ns).Create(ctx, gitopsPod("ws-second"), metav1.CreateOptions{})
		if err == nil && pod.Labels[harness.KeyVersion] != "v2" {
			err = fmt.Errorf("second workspace labelled %q", pod.Labels[harness.KeyVersion])
		}
		return err
	})
	r.expectDelta(t, before, all)
	after = r.scrape(t)
	for _, res := range lookup.ReadResults {
		if d := after.Get(namespaceReads(res)) - before.Get(namespaceReads(res)); d != 0 {
			t.Errorf("%v namespace reads (%s) for namespaces the cache knows; want none", d, res)
		}
	}
}

// gitopsPod is the suite's workspace Pod, selected by the lagging replica only.
func gitopsPod(name string) *corev1.Pod {
	p := harness.WorkspacePod(name, nil)
	p.Labels = map[string]string{gitopsLabel: "true"}
	return p
}

// lagKubeconfig is the admin's kubeconfig through a TCP proxy that delays every byte from the
// API server by lag (in order); requests go through at once.
func lagKubeconfig(t *testing.T, lag time.Duration) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(inj.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	var backend string
	for _, c := range cfg.Clusters {
		u, err := url.Parse(c.Server)
		if err != nil {
			t.Fatal(err)
		}
		backend = u.Host
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		go lagAccept(l, backend, lag)
		u.Host = l.Addr().String()
		c.Server = u.String()
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func lagAccept(l net.Listener, backend string, lag time.Duration) {
	for {
		client, err := l.Accept()
		if err != nil {
			return // closed
		}
		server, err := net.Dial("tcp", backend)
		if err != nil {
			_ = client.Close()
			continue
		}
		go func() { _, _ = io.Copy(server, client); _ = server.Close() }()
		go lagCopy(client, server, lag)
	}
}

// lagCopy copies src to dst, each chunk written lag after it was read: a link with latency, not
// a test waiting for something (the delay is what the test is about).
func lagCopy(dst, src net.Conn, lag time.Duration) {
	type chunk struct {
		b  []byte
		at time.Time
	}
	chunks := make(chan chunk, 4096)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				chunks <- chunk{buf[:n], time.Now().Add(lag)}
			}
			if err != nil {
				return
			}
		}
	}()
	defer dst.Close()
	for c := range chunks {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			_ = src.Close()
			return
		}
	}
}

// forEach calls f for every name on a few workers (bounded: the API server shares two cores with the
// suite) and fails t with the errors.
func forEach(t *testing.T, names []string, f func(string) error) {
	t.Helper()
	jobs := make(chan string)
	errs := make(chan error, len(names))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ns := range jobs {
				if err := f(ns); err != nil {
					errs <- fmt.Errorf("%s: %w", ns, err)
				}
			}
		}()
	}
	for _, ns := range names {
		jobs <- ns
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
