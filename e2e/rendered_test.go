//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestPreRenderedPodGetsTheCurrentPin is the README's story (issue 22): a workspace Pod rendered
// with `webhook inject -R -f gitops/` while its namespace was unpinned, created after the namespace
// was pinned to v2. The rendered tilt-lib volume is our own earlier output, not a conflict: the Pod
// gets tilt-lib-v2, no warning, and status, record and labels say what this admission decided.
// Before, it kept tilt-lib (1.4.0) with a volume_conflict warning and the render's status.
func TestPreRenderedPodGetsTheCurrentPin(t *testing.T) {
	ns := namespace(t, "rendered", nil, "tilt-lib", "tilt-lib-v2", "tilt-templates")
	settle(t, ns, libDefault, templatesDefault)

	rendered := renderOffline(t, ns, harness.WorkspacePod("ws-rendered", nil))
	assertVolume(t, rendered, "tilt-lib", "tilt-lib") // rendered unpinned
	if got := rendered.Annotations[harness.KeyStatus]; got != "injected" {
		t.Fatalf("the render's status %q, want injected", got)
	}

	pin := []byte(`{"metadata":{"annotations":{"` + harness.KeyVersion + `":"v2"}}}`)
	if _, err := inj.Client.CoreV1().Namespaces().Patch(context.Background(), ns, types.MergePatchType, pin, metav1.PatchOptions{}); err != nil {
		t.Fatalf("pinning %s to v2: %v", ns, err)
	}
	settle(t, ns, libV2Namespace, templatesDefault)
	before := scrape(t)

	pod, warnings := createPod(t, ns, rendered)
	assertInjected(t, pod, libV2Namespace, templatesDefault)
	assertNoWarnings(t, warnings)
	// Only tilt-lib is newly mounted (rewritten); tilt-templates was already the decision.
	expectDelta(t, before, harness.Expect{}.
		Add(harness.Injection("tilt-lib", libV2Namespace.ConfigMap, libV2Namespace.Version, string(libV2Namespace.Source)), 1).
		Add(harness.Review("injected", "none"), 1))
}

// TestCopiedPodGetsTheCurrentPin: a workspace spec copied from a running injected Pod (what the
// API server stored: defaultMode defaulted, status, record and labels of its admission), created
// after the namespace moved from v2 to v3, gets tilt-lib-v3: the copied volume is ours.
func TestCopiedPodGetsTheCurrentPin(t *testing.T) {
	ns := namespace(t, "copied", map[string]string{harness.KeyVersion: "v2"}, "tilt-lib", "tilt-lib-v2", "tilt-lib-v3", "tilt-templates")
	settle(t, ns, libV2Namespace, templatesDefault)
	running := admitWorkspace(t, ns, "ws-running", nil, libV2Namespace, templatesDefault, "none")

	move := []byte(`{"metadata":{"annotations":{"` + harness.KeyVersion + `":"v3"}}}`)
	if _, err := inj.Client.CoreV1().Namespaces().Patch(context.Background(), ns, types.MergePatchType, move, metav1.PatchOptions{}); err != nil {
		t.Fatalf("moving %s to v3: %v", ns, err)
	}
	settle(t, ns, libV3Namespace, templatesDefault)
	before := scrape(t)

	copied := running.DeepCopy()
	copied.ObjectMeta = metav1.ObjectMeta{Name: "ws-copied", Labels: running.Labels, Annotations: running.Annotations}
	copied.Status = corev1.PodStatus{}
	pod, warnings := createPod(t, ns, copied)
	assertInjected(t, pod, libV3Namespace, templatesDefault)
	assertNoWarnings(t, warnings)
	expectDelta(t, before, harness.Expect{}.
		Add(harness.Injection("tilt-lib", libV3Namespace.ConfigMap, libV3Namespace.Version, string(libV3Namespace.Source)), 1).
		Add(harness.Review("injected", "none"), 1))
}

// renderOffline writes pod into a gitops folder and renders it with the suite's webhook binary,
// `webhook inject -R -f <folder>`, as the README suggests; it returns the rendered Pod.
func renderOffline(t *testing.T, ns string, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "gitops")
	if err := os.MkdirAll(filepath.Join(dir, "workspaces"), 0o755); err != nil {
		t.Fatal(err)
	}
	pod = pod.DeepCopy()
	pod.APIVersion, pod.Kind, pod.Namespace = "v1", "Pod", ns
	in, err := yaml.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "workspaces", "pod.yaml"), in, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(inj.Webhook.Binary, "inject", "-R", "-f", dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("webhook inject -R: %v\n%s", err, stderr.String())
	}
	var out corev1.Pod
	if err := yaml.UnmarshalStrict(stdout.Bytes(), &out); err != nil {
		t.Fatalf("rendered output is not one Pod: %v\n%s", err, stdout.String())
	}
	t.Logf("webhook inject: %s", bytes.TrimSpace(stderr.Bytes()))
	return &out
}
