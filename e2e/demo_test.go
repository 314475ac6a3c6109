//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestDemo runs `make demo`'s program with DEMO_ONCE=1, so the newcomer's first command cannot
// rot: it must start its own control plane next to the suite's, apply examples/, print the
// expected table, metrics and adoption, and exit cleanly having stopped what it started.
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
		"registered as MutatingWebhookConfiguration tilt-lib-injector-demo", // not the chart's name (README install)
	} {
		if !strings.Contains(out, fragment) {
			t.Errorf("demo output lacks %q:\n%s", fragment, out)
		}
	}
	checkAdoption(t, out)
	checkDemoRollout(t, out)
	checkDemoExplain(t, out)
	for _, want := range []string{
		"Workspace team-d/coder-dana-dev mounts tilt-lib@1.4.0 and tilt-templates@1.1.0; configmap_missing warnings: 0.",
		"Deleted the copy team-d/tilt-lib: the distributor restored it within",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's distribution lacks %q", want)
		}
	}
	checkNode(t, root, out)
	if t.Failed() {
		t.Logf("demo output:\n%s\nstderr:\n%s", out, stderr.String())
	}
}

// checkNode: as root the workspaces run on a node and the demo ends inside team-b's: the first
// lines of the library it reads (examples/'s tilt-lib-v2), then a live update arriving there and
// in the adoption gauge. Without root, one line says why there is no node.
func checkNode(t *testing.T, root, out string) {
	t.Helper()
	if why := harness.NodeUnavailable(""); why != "" {
		if !strings.Contains(out, "No node in this demo ("+why+")") {
			t.Errorf("without a node the demo must say why (%q)", why)
		}
		return
	}
	objs, err := harness.ReadObjects(filepath.Join(root, "examples", "team-b.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var first string
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetName() == "tilt-lib-v2" {
			data, _, _ := unstructured.NestedStringMap(o.Object, "data")
			first, _, _ = strings.Cut(data["tilt_lib.star"], "\n")
		}
	}
	_, inside, ok := strings.Cut(out, "\nInside team-b's running workspace")
	if !ok || first == "" || !strings.Contains(inside, "\n  "+first+"\n") {
		t.Errorf("the demo does not show team-b's library %q from inside its running workspace", first)
	}
	_, live, ok := strings.Cut(inside, "\nLive update: ")
	if !ok || !strings.Contains(live, "without a restart") || !strings.Contains(live, "\n  # tilt-lib 2.0.2 -- a live update from make demo\n") ||
		!strings.Contains(live, `namespace="team-b",version="2.0.2"} 1`) {
		t.Errorf("the demo does not show the live update reaching the running workspace and the gauge")
	}
}

// checkAdoption checks the demo's closing section: the gauge's count of each component's
// ConfigMap/version with share and bar, for alice (default tilt-lib), bob (team-b's v2 pin) and
// carol (created before the webhook was registered), and carol called out as a straggler.
func checkAdoption(t *testing.T, out string) {
	t.Helper()
	_, section, ok := strings.Cut(out, "\nAdoption now, as the dashboard shows it")
	if !ok {
		t.Errorf("demo output has no adoption section")
		return
	}
	got := map[string][]string{} // component -> "configmap version pods share bar" lines
	component := ""
	for _, line := range strings.Split(section, "\n") {
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "  tilt-") && strings.HasSuffix(line, " workspace Pods"):
			component = strings.TrimSuffix(f[0], ":")
			got[component] = append(got[component], strings.Join(f[1:], " "))
		case component != "" && strings.HasPrefix(line, "    ") && len(f) >= 5 && strings.HasSuffix(f[3], "%"):
			got[component] = append(got[component], strings.Join(f[:5], " "))
		}
	}
	want := map[string][]string{
		"tilt-lib": {"3 workspace Pods",
			"tilt-lib 1.4.0 1 33% #######.............",
			"tilt-lib-v2 2.0.1 1 33% #######.............",
			"none - 1 33% #######............."},
		"tilt-templates": {"3 workspace Pods",
			"tilt-templates 1.1.0 2 67% #############.......",
			"none - 1 33% #######............."},
	}
	for c, w := range want {
		if !slices.Equal(got[c], w) {
			t.Errorf("adoption of %s:\n  %s\nwant\n  %s", c, strings.Join(got[c], "\n  "), strings.Join(w, "\n  "))
		}
	}
	for _, fragment := range []string{
		`Stragglers: 1 workspace Pod(s) never injected (configmap="none"): 1 in team-a.`,
		"kubectl get pods -A -l app.kubernetes.io/name=coder-workspace -L tilt-lib.platform/version,tilt-lib.platform/templates-version",
		`PromQL: sum by (configmap, version) (max by (namespace, component, configmap, version) (tiltlib_workspace_pods{job="tilt-lib-injector", component="tilt-lib", namespace=~".*"}))`,
		"team-a/coder-carol-dev, a workspace that was running before the injector was",
	} {
		if !strings.Contains(section, fragment) && !strings.Contains(out, fragment) {
			t.Errorf("demo output lacks %q", fragment)
		}
	}
}

// checkDemoRollout: the demo's rollout table (examples/rollout/: 50 % of team-c's workspaces to
// tilt-lib v3) puts exactly the workspaces whose oracle bucket (buckets.py) is below 5000 in the
// canary, each mounting v3, and the rest on v2; the injections counter says how many.
func checkDemoRollout(t *testing.T, out string) {
	t.Helper()
	oracle := bucketOracle(t)
	rows, canaries := 0, 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 5 || !strings.HasPrefix(f[0], "coder-ws-") {
			continue
		}
		rows++
		want, ok := oracle[rolloutSalt][f[1]]
		if !ok {
			t.Errorf("rollout row %q: workspace id not in the oracle table", line)
			continue
		}
		arm, lib := "baseline", "tilt-lib-v2@2.0.1"
		if want < 5000 {
			arm, lib = "canary", "tilt-lib-v3@3.0.0"
			canaries++
		}
		if f[2] != strconv.Itoa(want) || f[3] != arm || f[4] != lib {
			t.Errorf("rollout row %q, want bucket %d (oracle), arm %s, %s", line, want, arm, lib)
		}
	}
	if rows == 0 || canaries == 0 || canaries == rows {
		t.Errorf("the demo's rollout shows %d workspaces, %d in the canary: want both arms", rows, canaries)
	}
	for _, line := range []string{
		fmt.Sprintf(`tiltlib_injections_total{component="tilt-lib",configmap="tilt-lib-v3",source="rollout",version="3.0.0"} %d`, canaries),
		fmt.Sprintf(`tiltlib_rollout_workspaces{arm="canary",component="tilt-lib",rollout="tilt-lib-v3"} %d`, canaries),
		fmt.Sprintf(`tiltlib_rollout_workspaces{arm="baseline",component="tilt-lib",rollout="tilt-lib-v3"} %d`, rows-canaries),
		`tiltlib_rollout_percent{rollout="tilt-lib-v3"} 50`,
		fmt.Sprintf("target 50 %%, running the canary %.1f %% (canary+reverted), assigned %.1f %% (canary+pending), of %d workspaces",
			100*float64(canaries)/float64(rows), 100*float64(canaries)/float64(rows), rows),
	} {
		if !strings.Contains(out, line) {
			t.Errorf("demo output lacks %s", line)
		}
	}
}

// checkDemoExplain: the demo ends with `webhook explain` of team-b's pinned workspace (every row
// √, exit 0: the namespace's pin) and of the straggler (created before the webhook, exit 3).
func checkDemoExplain(t *testing.T, out string) {
	t.Helper()
	_, bob, ok := strings.Cut(out, "$ webhook explain deploy/coder-bob-dev -n team-b --from-flags")
	if !ok {
		t.Fatalf("the demo does not explain team-b's workspace")
	}
	bob, carol, ok := strings.Cut(bob, "$ webhook explain pod/")
	if !ok {
		t.Fatalf("the demo does not explain the straggler")
	}
	for _, want := range []string{"namespace team-b pins v2", "tilt-lib-v2 in team-b", "(exit 0: no ×)"} {
		if !strings.Contains(bob, want) {
			t.Errorf("explain of team-b's workspace lacks %q:\n%s", want, bob)
		}
	}
	if strings.Contains(bob, "×  ") {
		t.Errorf("explain of team-b's pinned workspace has a × row:\n%s", bob)
	}
	for _, want := range []string{"-n team-a", "recorded", "created before the webhook", "(exit 3:"} {
		if !strings.Contains(carol, want) {
			t.Errorf("explain of the straggler lacks %q:\n%s", want, carol)
		}
	}
}
