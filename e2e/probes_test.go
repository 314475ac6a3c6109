//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
	w := unsyncedWebhook(t, "no-rbac")
	code, body, err := w.Probe(ctx, "/readyz?verbose")
	if err != nil || code != http.StatusInternalServerError || !strings.Contains(body, "[-]caches failed") {
		t.Errorf("/readyz = %d %v, want 500 with the caches check failing:\n%s", code, err, body)
	}
	assertProbe(t, ctx, w, "/healthz", http.StatusOK)
	if !w.Running() {
		t.Errorf("webhook exited; see %s", w.LogPath)
	}
}

// TestSIGTERMBeforeCachesSync: a webhook that is told to stop before its caches synced (a
// rollout undone because the new pods never got ready) must still exit promptly and cleanly.
//
// controller-runtime v0.25.2's manager alone never returns here: runnableGroup.Start keeps
// selecting on the closed ctx.Done() (a busy loop). cmd/webhook bounds the wait and exits; without
// that, this test fails and reports the CPU the process burnt and its goroutine dump (SIGQUIT).
func TestSIGTERMBeforeCachesSync(t *testing.T) {
	w := unsyncedWebhook(t, "sigterm-unsynced")
	pid := w.PID()
	sigterm := time.Now()
	if err := w.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := w.Wait(unsyncedExitDeadline)
	if err == nil {
		t.Logf("exited 0 %s after SIGTERM", time.Since(sigterm).Round(time.Millisecond))
		return
	}
	if !w.Running() {
		t.Fatalf("exited uncleanly after SIGTERM: %v (log: %s)", err, w.LogPath)
	}
	cpu := cpuTime(t, pid)
	logFrom := logSize(t, w.LogPath)
	if err := w.Signal(syscall.SIGQUIT); err != nil { // the Go runtime dumps every goroutine and exits
		t.Fatal(err)
	}
	_ = w.Wait(shutdownDeadline)
	dump := logSince(t, w.LogPath, logFrom)
	var stuck []string
	for _, g := range strings.Split(dump, "\n\n") {
		if strings.Contains(g, "runnableGroup).Start(") {
			stuck = append(stuck, g)
		}
	}
	t.Errorf("pid %d still running %s after SIGTERM, having used %s of CPU since it started; goroutines in runnableGroup.Start:\n%s",
		pid, unsyncedExitDeadline, cpu, strings.Join(stuck, "\n\n"))
}

// unsyncedWebhook starts a webhook as a user without RBAC and waits until it is live and its
// webhook server answers: only the caches, which can never sync, keep it unready.
// unsyncedExitDeadline: cmd/webhook gives an unsynced manager 2s to stop before it exits itself.
const unsyncedExitDeadline = 10 * time.Second

func unsyncedWebhook(t *testing.T, name string) *harness.Webhook {
	t.Helper()
	ctx := context.Background()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := inj.UserKubeconfig(kubeconfig, "e2e-"+name); err != nil {
		t.Fatal(err)
	}
	w := extraWebhook(t, name, kubeconfig)
	if err := w.Launch(); err != nil {
		t.Fatal(err)
	}
	// If SIGTERM ever stops ending a process in this state (TestSIGTERMBeforeCachesSync), end it
	// with SIGKILL rather than let extraWebhook's cleanup wait 30s for SIGTERM.
	t.Cleanup(func() {
		if w.Running() {
			if err := w.Signal(syscall.SIGKILL); err != nil {
				t.Errorf("killing the %s webhook: %v", name, err)
			}
			_ = w.Wait(shutdownDeadline) // "signal: killed"
		}
	})
	waitLive(t, ctx, w)
	// The webhook server starts right after the probe server, before the caches are waited for.
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
	return w
}

// cpuTime is the user+system CPU time pid has used (Linux /proc; 0 elsewhere).
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command: state is field 3; utime and stime are 14 and 15.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ is 100 on Linux
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
