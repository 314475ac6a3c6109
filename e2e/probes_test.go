//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestProbes: a running, registered webhook is live and ready, and /readyz is made of the two
// documented checks (informer caches synced, webhook server answering TLS).
func TestProbes(t *testing.T) {
	ctx := context.Background()
	assertProbe(t, ctx, inj.Webhook, "/healthz", http.StatusOK)
	body := assertProbe(t, ctx, inj.Webhook, "/readyz?verbose", http.StatusOK)
	for _, check := range []string{"[+]caches ok", "[+]webhook ok"} {
		if !strings.Contains(body, check) {
			t.Errorf("/readyz?verbose lacks %q:\n%s", check, body)
		}
	}
}

// TestNotReadyWhileCachesUnsynced: a webhook whose identity may not list Namespaces and
// ConfigMaps (a missing ClusterRoleBinding) never syncs its caches. It must stay live but not
// ready, so that a rollout waits instead of sending reviews to a server that cannot answer them.
func TestNotReadyWhileCachesUnsynced(t *testing.T) {
	ctx := context.Background()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := inj.UserKubeconfig(kubeconfig, "e2e-no-rbac"); err != nil {
		t.Fatal(err)
	}
	w := extraWebhook(t, "no-rbac", kubeconfig)
	if err := w.Launch(); err != nil {
		t.Fatal(err)
	}
	waitLive(t, ctx, w)
	// The webhook server starts right after the probe server, and before the caches are waited
	// for: once its check passes, only the caches can keep the process unready.
	var code int
	var body string
	err := harness.Poll(ctx, shutdownDeadline, func(ctx context.Context) (bool, error) {
		var err error
		code, body, err = w.Probe(ctx, "/readyz?verbose")
		return err == nil && strings.Contains(body, "[+]webhook ok"), nil
	})
	if err != nil {
		t.Fatalf("webhook server never started (/readyz %d %s): %v", code, body, err)
	}
	if code != http.StatusInternalServerError || !strings.Contains(body, "[-]caches failed") {
		t.Errorf("/readyz = %d, want 500 with the caches check failing:\n%s", code, body)
	}
	assertProbe(t, ctx, w, "/healthz", http.StatusOK)
	if !w.Running() {
		t.Errorf("webhook exited; see %s", w.LogPath)
	}
}

// TestAPIServerUnreachable: with its API server unreachable (a loopback port nobody listens on)
// the webhook must never report ready. Either it stays up, live but not ready, or it exits with
// an error naming the server (its pod then restarts with back-off until the API is back).
func TestAPIServerUnreachable(t *testing.T) {
	ctx := context.Background()
	port, err := harness.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	server := "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	cfg, err := clientcmd.LoadFromFile(inj.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = server
	}
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}

	w := extraWebhook(t, "unreachable", kubeconfig)
	if err := w.Launch(); err != nil {
		t.Fatal(err)
	}
	var exited error
	var readyz string
	err = harness.Poll(ctx, shutdownDeadline, func(ctx context.Context) (bool, error) {
		if !w.Running() {
			exited = w.Wait(0)
			return true, nil
		}
		if code, _, err := w.Probe(ctx, "/healthz"); err != nil || code != http.StatusOK {
			return false, nil
		}
		code, body, err := w.Probe(ctx, "/readyz?verbose")
		if err != nil {
			return false, nil
		}
		readyz = fmt.Sprintf("%d %s", code, body)
		return true, nil
	})
	if err != nil {
		t.Fatalf("webhook neither exited nor became live: %v (log: %s)", err, w.LogPath)
	}
	if w.Running() {
		if !strings.HasPrefix(readyz, "500 ") || !strings.Contains(readyz, "[-]caches failed") {
			t.Errorf("live webhook without an API server: /readyz = %s, want 500 with caches failed", readyz)
		}
		t.Logf("stays up, not ready: /readyz %s", readyz)
		return
	}
	if exited == nil {
		t.Errorf("webhook exited with status 0 without an API server; want an error")
	}
	log := logSince(t, w.LogPath, 0)
	u, _ := url.Parse(server)
	if !strings.Contains(log, u.Host) {
		t.Errorf("exit log does not name the API server %s:\n%s", u.Host, log)
	}
	t.Logf("exits (%v), never ready; it said: %s", exited, lastLine(log))
}

// waitLive waits until w's /healthz answers 200 (its probe server is up).
func waitLive(t *testing.T, ctx context.Context, w *harness.Webhook) {
	t.Helper()
	err := harness.Poll(ctx, shutdownDeadline, func(ctx context.Context) (bool, error) {
		if !w.Running() {
			return false, fmt.Errorf("webhook exited (%v); see %s", w.Wait(0), w.LogPath)
		}
		code, _, err := w.Probe(ctx, "/healthz")
		return err == nil && code == http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("webhook never live: %v", err)
	}
}

// assertProbe GETs path and checks the status code; it returns the body.
func assertProbe(t *testing.T, ctx context.Context, w *harness.Webhook, path string, code int) string {
	t.Helper()
	got, body, err := w.Probe(ctx, path)
	switch {
	case err != nil:
		t.Errorf("%s: %v", path, err)
	case got != code:
		t.Errorf("%s = %d, want %d:\n%s", path, got, code, body)
	}
	return body
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
