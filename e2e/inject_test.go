//go:build e2e

package e2e

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestDefaultInjection: an unannotated namespace gets the unversioned ConfigMaps; re-submitting
// the stored Pod (what a controller or `kubectl replace --force` does) adds nothing.
func TestDefaultInjection(t *testing.T) {
	ns := namespace(t, "default", nil, "tilt-lib", "tilt-templates")
	settle(t, ns, libDefault, templatesDefault)
	before := scrape(t)

	pod, warnings := createPod(t, ns, harness.WorkspacePod("ws-default", nil))
	assertInjected(t, pod, libDefault, templatesDefault)
	assertNoWarnings(t, warnings)

	again := pod.DeepCopy()
	again.Name, again.ResourceVersion, again.UID, again.ManagedFields = "ws-default-again", "", "", nil
	again.CreationTimestamp, again.Status = metav1.Time{}, corev1.PodStatus{}
	resubmitted, _ := createPod(t, ns, again)
	assertInjected(t, resubmitted, libDefault, templatesDefault)

	want := injected(libDefault, templatesDefault, "none")
	want.Add(harness.Review("skipped", "already_injected"), 1)
	expectDelta(t, before, want)
}

// TestNamespacePin: `version: v2` on the Namespace selects tilt-lib-v2; templates stay default.
func TestNamespacePin(t *testing.T) {
	ns := namespace(t, "pin", map[string]string{harness.KeyVersion: "v2"}, "tilt-lib", "tilt-lib-v2", "tilt-templates")
	settle(t, ns, libV2Namespace, templatesDefault)

	admitWorkspace(t, ns, "ws-pinned", nil, libV2Namespace, templatesDefault, "none")
}

// TestPodOverride: a Pod annotation beats the Namespace pin.
func TestPodOverride(t *testing.T) {
	ns := namespace(t, "override", map[string]string{harness.KeyVersion: "v2"},
		"tilt-lib", "tilt-lib-v2", "tilt-lib-v3", "tilt-templates")
	settle(t, ns, libV2Namespace, templatesDefault)

	admitWorkspace(t, ns, "ws-override", map[string]string{harness.KeyVersion: "v3"}, libV3Pod, templatesDefault, "none")
}

// TestOverrideForbidden: with allow-pod-override "false" the Namespace pin wins, and the
// developer is told why their annotation was ignored.
func TestOverrideForbidden(t *testing.T) {
	ns := namespace(t, "forbidden", map[string]string{harness.KeyVersion: "v2", harness.KeyAllowPodOverride: "false"},
		"tilt-lib", "tilt-lib-v2", "tilt-lib-v3", "tilt-templates")
	settle(t, ns, libV2Namespace, templatesDefault)

	admitWorkspace(t, ns, "ws-forbidden", map[string]string{harness.KeyVersion: "v3"}, libV2Namespace, templatesDefault, "override_forbidden", `"v3"`, "allow-pod-override")
}

// TestAlias: the server runs with --alias stable=v2; a Namespace pinned to "stable" gets
// tilt-lib-v2, and the label shows the resolved version.
func TestAlias(t *testing.T) {
	ns := namespace(t, "alias", map[string]string{harness.KeyVersion: "stable"}, "tilt-lib", "tilt-lib-v2", "tilt-templates")
	settle(t, ns, libV2Namespace, templatesDefault)

	admitWorkspace(t, ns, "ws-alias", nil, libV2Namespace, templatesDefault, "none")
}

// TestTemplatesPinnedSeparately: templates-version and version resolve independently, here from
// different levels (templates from the Namespace, tilt-lib from the Pod).
func TestTemplatesPinnedSeparately(t *testing.T) {
	ns := namespace(t, "templates", map[string]string{harness.KeyTemplatesVersion: "v2"},
		"tilt-lib", "tilt-lib-v3", "tilt-templates", "tilt-templates-v2")
	templatesV2 := want{ConfigMap: "tilt-templates-v2", Version: "2.0.0", Source: "namespace"}
	settle(t, ns, libDefault, templatesV2)

	admitWorkspace(t, ns, "ws-templates", map[string]string{harness.KeyVersion: "v3"}, libV3Pod, templatesV2, "none")
}
