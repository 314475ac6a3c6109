//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// shutdownDeadline bounds each step of a graceful shutdown on this machine: the process noticing
// SIGTERM, and exiting once its last review is answered (the manager's own grace period is 30s).
const shutdownDeadline = 30 * time.Second

// inFlight is controller-runtime's gauge of admission requests inside the handler.
var inFlight = harness.Series{Name: "controller_runtime_webhook_requests_in_flight",
	Labels: map[string]string{"webhook": harness.MutatePath}}

// TestGracefulShutdownFinishesInFlightReview: a rolling update sends SIGTERM while the API
// server is in the middle of a review. The process stops accepting connections but answers the
// review it has started — a complete 200 with the patch — and then exits with status 0.
//
// The review is sent straight to the webhook (not through the API server, which would give up
// after the registration's timeout) and stalls half-way through its body, so it is provably in
// flight when the signal arrives. It is a real (not dry-run) CREATE: the process that counts it
// is ending, so the suite closes its books before and starts a new ledger with the restart.
func TestGracefulShutdownFinishesInFlightReview(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, "drain", nil, "tilt-lib", "tilt-templates")
	settle(t, ns, libDefault, templatesDefault)
	if err := lifetime.check(ctx); err != nil {
		t.Errorf("before the shutdown: %v", err)
	}
	pid := inj.Webhook.PID()
	signalled := false
	t.Cleanup(func() { // leave a working webhook for the other scenarios, whatever happened
		if !signalled || (inj.Webhook.Running() && inj.Webhook.PID() != pid) {
			return
		}
		if err := inj.Webhook.Stop(shutdownDeadline); err != nil {
			t.Logf("stopping the old webhook: %v", err)
		}
		restartWebhook(t, ctx)
	})

	pod := harness.WorkspacePod("ws-draining", nil)
	pod.Namespace = ns
	uid := types.UID(fmt.Sprintf("e2e-drain-%d", time.Now().UnixNano()))
	body := admissionReview(t, uid, pod)

	conn, err := dialTLS(inj.Service.Addr(), clientTLS(t, tls.VersionTLS12, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(2 * shutdownDeadline)); err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("POST %s?timeout=10s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
		"Accept: application/json\r\nContent-Length: %d\r\n\r\n", harness.MutatePath, serverName(), len(body))
	half := len(body) / 2
	if _, err := io.WriteString(conn, head+string(body[:half])); err != nil {
		t.Fatalf("sending the headers and half the body: %v", err)
	}
	// The handler is entered (the gauge rises) once the headers are read; it then blocks reading
	// the rest of the body.
	waitGauge(t, ctx, inFlight, 1)

	logFrom := logSize(t, inj.Webhook.LogPath)
	if err := inj.Webhook.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled = true
	sigterm := time.Now()

	// Shutting down: the webhook server has said so and closed its listener, which its own
	// readiness check dials, so /readyz fails while the probe server still answers.
	var last string
	err = harness.Poll(ctx, shutdownDeadline, func(ctx context.Context) (bool, error) {
		said := strings.Contains(logSince(t, inj.Webhook.LogPath, logFrom), "Shutting down webhook server")
		code, _, err := inj.Webhook.Probe(ctx, "/readyz")
		last = fmt.Sprintf("logged shutdown: %v, /readyz: %d %v", said, code, err)
		return said && code != http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("webhook pid %d never began shutting down (%s): %v", pid, last, err)
	}
	t.Logf("shutdown under way %s after SIGTERM (%s)", time.Since(sigterm).Round(time.Millisecond), last)
	if !inj.Webhook.Running() {
		t.Fatalf("webhook pid %d exited without finishing the in-flight review", pid)
	}
	if c, err := dialTLS(inj.Service.Addr(), clientTLS(t, tls.VersionTLS12, 0)); err == nil {
		_ = c.Close()
		t.Errorf("a draining webhook still accepts new connections")
	}

	if _, err := conn.Write(body[half:]); err != nil {
		t.Fatalf("sending the rest of the body: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response to the in-flight review: %v", err)
	}
	raw, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatalf("reading the response body (%d bytes so far): %v", len(raw), err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("in-flight review answered HTTP %d: %s", resp.StatusCode, raw)
	}
	assertPatched(t, uid, pod, raw)

	if err := inj.Webhook.Wait(shutdownDeadline); err != nil {
		t.Fatalf("after answering, webhook pid %d did not exit with status 0: %v (log: %s)", pid, err, inj.Webhook.LogPath)
	}
	t.Logf("pid %d exited 0, %s after SIGTERM", pid, time.Since(sigterm).Round(time.Millisecond))

	restartWebhook(t, ctx)
}

// restartWebhook starts the suite's webhook again after a test ended it: a new process, so a
// new ledger.
func restartWebhook(t *testing.T, ctx context.Context) {
	t.Helper()
	lifetime.reset()
	if err := inj.Webhook.Start(ctx, time.Minute); err != nil {
		t.Fatalf("restarting the webhook: %v", err)
	}
	if err := inj.WaitInjecting(ctx, policyDeadline); err != nil {
		t.Fatalf("restarted webhook not called: %v", err)
	}
}

// admissionReview is the AdmissionReview the API server sends for a CREATE of pod.
func admissionReview(t *testing.T, uid types.UID, pod *corev1.Pod) []byte {
	t.Helper()
	pod = pod.DeepCopy()
	pod.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	obj, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	gvk := metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}
	gvr := metav1.GroupVersionResource{Version: "v1", Resource: "pods"}
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: uid, Kind: gvk, Resource: gvr, RequestKind: &gvk, RequestResource: &gvr,
			Name: pod.Name, Namespace: pod.Namespace, Operation: admissionv1.Create,
			UserInfo: authenticationv1.UserInfo{Username: "e2e-developer"},
			Object:   runtime.RawExtension{Raw: obj},
			DryRun:   ptr.To(false),
			Options:  runtime.RawExtension{Raw: []byte(`{"apiVersion":"meta.k8s.io/v1","kind":"CreateOptions"}`)},
		},
	}
	out, err := json.Marshal(review)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertPatched checks raw is the AdmissionReview answering uid, allowing pod with a JSON patch
// that, applied, injects the default ConfigMaps.
func assertPatched(t *testing.T, uid types.UID, pod *corev1.Pod, raw []byte) {
	t.Helper()
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(raw, &review); err != nil {
		t.Fatalf("response is not an AdmissionReview: %v\n%s", err, raw)
	}
	r := review.Response
	switch {
	case review.APIVersion != "admission.k8s.io/v1" || review.Kind != "AdmissionReview":
		t.Fatalf("response is %s %s, want admission.k8s.io/v1 AdmissionReview", review.APIVersion, review.Kind)
	case r == nil:
		t.Fatalf("AdmissionReview without a response: %s", raw)
	case r.UID != uid:
		t.Fatalf("response UID %q, want %q", r.UID, uid)
	case !r.Allowed:
		t.Fatalf("review denied: %+v", r.Result)
	case r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch || len(r.Patch) == 0:
		t.Fatalf("response carries no JSON patch: %s", raw)
	}
	patch, err := jsonpatch.DecodePatch(r.Patch)
	if err != nil {
		t.Fatalf("patch does not decode: %v\n%s", err, r.Patch)
	}
	orig, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	patched, err := patch.Apply(orig)
	if err != nil {
		t.Fatalf("patch does not apply to the Pod: %v\n%s", err, r.Patch)
	}
	var got corev1.Pod
	if err := json.Unmarshal(patched, &got); err != nil {
		t.Fatalf("patched Pod does not decode: %v", err)
	}
	assertInjected(t, &got, libDefault, templatesDefault)
}

// waitGauge waits until the webhook exports s with value v.
func waitGauge(t *testing.T, ctx context.Context, s harness.Series, v float64) {
	t.Helper()
	var got float64
	err := harness.Poll(ctx, shutdownDeadline, func(ctx context.Context) (bool, error) {
		sn, err := inj.Scrape(ctx)
		if err != nil {
			return false, err
		}
		got = sn.Get(s)
		return got == v, nil
	})
	if err != nil {
		t.Fatalf("%s = %g, want %g: %v", s.Key(), got, v, err)
	}
}

func logSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// logSince is what the process logged after offset (the log file is shared by every start).
func logSince(t *testing.T, path string, offset int64) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) < offset {
		return ""
	}
	return string(data[offset:])
}
