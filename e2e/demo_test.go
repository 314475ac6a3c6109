//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestDemo runs `make demo`'s program with DEMO_ONCE=1, so the newcomer's first command cannot
// rot: it must start its own control plane next to the suite's, apply examples/, print the
// expected table and metrics, and exit cleanly having stopped what it started.
func TestDemo(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "demo")
	if err := harness.GoBuild(ctx, root, "./e2e/demo", bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "DEMO_ONCE=1")
	// On timeout, let the demo stop its control plane rather than orphaning it with SIGKILL.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("demo ran in %s", time.Since(start).Round(time.Millisecond))
	out := stdout.String()

	rows := map[string][]string{} // namespace -> fields of its row
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && strings.HasPrefix(f[0], "team-") {
			rows[f[0]] = f
		}
	}
	wantRows := map[string][]string{
		// NAMESPACE, POD prefix, TILT-LIB, TEMPLATES, SOURCE (tilt-lib/tilt-templates)
		"team-a": {"team-a", "coder-alice-dev-", "tilt-lib@1.4.0", "tilt-templates@1.1.0", "default/default"},
		"team-b": {"team-b", "coder-bob-dev-", "tilt-lib-v2@2.0.1", "tilt-templates@1.1.0", "namespace/default"},
	}
	for ns, w := range wantRows {
		got, ok := rows[ns]
		switch {
		case !ok:
			t.Errorf("no table row for %s", ns)
		case !strings.HasPrefix(got[1], w[1]) || got[2] != w[2] || got[3] != w[3] || got[4] != w[4]:
			t.Errorf("row %s = %q, want %q (pod name prefixed)", ns, got, w)
		}
	}
	for _, fragment := range []string{
		"NAMESPACE", "generateName",
		`tiltlib_injections_total{component="tilt-lib",configmap="tilt-lib-v2",source="namespace",version="2.0.1"} 1`,
		`tiltlib_admission_reviews_total{reason="none",result="injected"} 2`,
		"export KUBECONFIG=", "export PATH=",
	} {
		if !strings.Contains(out, fragment) {
			t.Errorf("demo output lacks %q:\n%s", fragment, out)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s\nstderr:\n%s", out, stderr.String())
	}
}
