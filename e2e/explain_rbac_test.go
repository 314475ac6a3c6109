//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/explain"
)

// registrationOK is the registration row's √ (the table's column width depends on the rows).
var registrationOK = regexp.MustCompile(`(?m)^registration +√ +tilt-lib-injector, failurePolicy Ignore, 1/1 endpoints ready; configuration from deployment`)

// explainAsRole runs explain as a user bound only to the chart's read-only explain role
// (explainRole.create, rendered by helm): every live mode reads what it needs with it, and
// --server, which it does not grant (a dry run is authorized as a create), says so in its row.
func explainAsRole(ctx context.Context, t *testing.T, e *harness.Injector, run explainRun) {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := helmCmd(t, "template", "tilt-lib-injector", filepath.Join(root, "charts", "tilt-lib-injector"),
		"--show-only", "templates/explainrole.yaml", "--set", "explainRole.create=true",
		"--set", "explainRole.subjects[0].kind=User", "--set", "explainRole.subjects[0].name=explainer")
	manifest := filepath.Join(e.WorkDir, "explainrole.yaml")
	if err := os.WriteFile(manifest, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.CommandContext(ctx, e.KubectlPath(), "--kubeconfig", e.Kubeconfig, "apply", "-f", manifest).CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, b)
	}
	cfg, err := clientcmd.LoadFromFile(e.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cfg.AuthInfos {
		a.Impersonate = "explainer"
	}
	as := filepath.Join(e.WorkDir, "explainer.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, as); err != nil {
		t.Fatal(err)
	}
	// The binding is in effect once explain is no longer refused (the authorizer's cache).
	var code int
	var stdout, stderr string
	err = harness.Poll(ctx, 30*time.Second, func(context.Context) (bool, error) {
		code, stdout, stderr = run("--kubeconfig", as, "pod/coder-carol-dev", "-n", explainNS)
		return code != explain.ExitUsage, nil
	})
	if err != nil || code != explain.ExitError || !strings.Contains(stdout, "created before the webhook") {
		t.Fatalf("explain as the explain role: %v, exit %d, stderr %q\n%s", err, code, stderr, stdout)
	}
	for _, args := range [][]string{
		{"deploy/coder-dave"}, {"sts/coder-sts"}, {"ds/coder-ds"}, {"rs/coder-rs"}, {"job/coder-job"}, {"cj/nightly"},
		{"namespace/" + explainNS}, {"--new"},
	} {
		code, stdout, stderr := run(append([]string{"--kubeconfig", as, "-n", explainNS}, args...)...)
		if code == explain.ExitUsage || !registrationOK.MatchString(stdout) {
			t.Errorf("explain %v as the explain role: exit %d, stderr %q\n%s", args, code, stderr, stdout)
		}
	}
	code, stdout, stderr = run("--kubeconfig", as, "-n", explainNS, "--new", "--server")
	if code != explain.ExitError || !strings.Contains(stdout, "server                    ×       the dry run failed: forbidden: cannot create pods (dry run) in namespace team-explain") {
		t.Errorf("--server as the explain role: exit %d, stderr %q\n%s", code, stderr, stdout)
	}
}
