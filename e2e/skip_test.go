//go:build e2e

package e2e

import (
	"testing"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestOptOut: `inject: "false"` on a Pod skips it (and says so in its status); on a Namespace it
// skips every Pod except those that opt back in with `inject: "true"`.
func TestOptOut(t *testing.T) {
	plain := namespace(t, "optout-pod", nil, "tilt-lib", "tilt-templates")
	settle(t, plain, libDefault, templatesDefault)
	optedOutNS := namespace(t, "optout-ns", map[string]string{harness.KeyInject: "false"}, "tilt-lib", "tilt-templates")
	settleStatus(t, optedOutNS, "skipped:opted_out")
	before := scrape(t)

	pod, _ := createPod(t, plain, harness.WorkspacePod("ws-optout", map[string]string{harness.KeyInject: "false"}))
	assertSkipped(t, pod, "opted_out")

	nsPod, _ := createPod(t, optedOutNS, harness.WorkspacePod("ws-in-optout-ns", nil))
	assertSkipped(t, nsPod, "opted_out")

	optIn, _ := createPod(t, optedOutNS, harness.WorkspacePod("ws-optin", map[string]string{harness.KeyInject: "true"}))
	assertInjected(t, optIn, libDefault, templatesDefault)

	want := injected(libDefault, templatesDefault, "none")
	want.Add(harness.Review("skipped", "opted_out"), 2)
	expectDelta(t, before, want)
}

// TestNotSelected: the webhook is never called for a Pod without the workspace label, a
// workspace Pod in kube-system, or one in the injector's own namespace: they are stored as sent
// and no metric moves.
func TestNotSelected(t *testing.T) {
	ns := namespace(t, "unselected", nil, "tilt-lib", "tilt-templates")
	settle(t, ns, libDefault, templatesDefault)
	before := scrape(t)

	other := harness.WorkspacePod("not-a-workspace", nil)
	delete(other.Labels, harness.WorkspaceLabel)
	pod, _ := createPod(t, ns, other)
	assertUntouched(t, pod)

	for _, system := range []string{"kube-system", inj.Service.Namespace} {
		pod, _ := createPod(t, system, harness.WorkspacePod("ws-in-"+system, nil))
		assertUntouched(t, pod)
	}
	expectDelta(t, before, harness.Expect{})
}
