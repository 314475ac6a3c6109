//go:build e2e

package e2e

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/types"

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

// TestServeHonoursTheWorkspaceSelector: a webhook configuration broader than the chart's (no
// objectSelector) sends a Pod that is not a workspace; the real server, started with the default
// --workspace-selector, admits it untouched with reason not_selected. The review goes straight to
// the webhook, as such an API server would send it.
func TestServeHonoursTheWorkspaceSelector(t *testing.T) {
	ns := namespace(t, "broad-rule", nil, "tilt-lib", "tilt-templates")
	settle(t, ns, libDefault, templatesDefault)
	before := scrape(t)

	pod := harness.WorkspacePod("not-a-workspace", nil)
	delete(pod.Labels, harness.WorkspaceLabel)
	pod.Namespace = ns
	uid := types.UID(fmt.Sprintf("e2e-broad-%d", time.Now().UnixNano()))
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS(t, tls.VersionTLS12, 0)}}
	defer client.CloseIdleConnections()
	resp, err := client.Post("https://"+inj.Service.Addr()+harness.MutatePath, "application/json",
		bytes.NewReader(admissionReview(t, uid, pod)))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d, %v: %s", resp.StatusCode, err, raw)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(raw, &review); err != nil || review.Response == nil {
		t.Fatalf("not an AdmissionReview: %v: %s", err, raw)
	}
	r := review.Response
	if r.UID != uid || !r.Allowed || len(r.Patch) != 0 || len(r.Warnings) != 0 {
		t.Fatalf("want allowed, untouched, silent; got %s", raw)
	}
	expectDelta(t, before, harness.Expect{}.Add(harness.Review("skipped", "not_selected"), 1))
}
