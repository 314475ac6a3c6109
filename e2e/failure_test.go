//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// policyDeadline bounds how long the API server may take to apply a changed webhook
// configuration (it watches them; in practice well under a second).
const policyDeadline = 30 * time.Second

// TestFailurePolicyAndRestart stops the webhook process and checks what the API server does:
// with failurePolicy Ignore the workspace is still created (un-injected); with Fail creation is
// rejected with the API server's error naming the webhook. After a restart injection resumes,
// and the new process's counters start from zero.
func TestFailurePolicyAndRestart(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, "failure", nil, "tilt-lib", "tilt-templates")
	settle(t, ns, libDefault, templatesDefault)

	// Close the books of this process lifetime before ending it.
	if err := lifetime.check(ctx); err != nil {
		t.Errorf("before the restart: %v", err)
	}
	t.Cleanup(func() { // leave a working webhook behind for the other scenarios, whatever happened
		if err := harness.SetFailurePolicy(ctx, inj.Client, admissionv1.Ignore); err != nil {
			t.Errorf("restoring failurePolicy Ignore: %v", err)
		}
		if !inj.Webhook.Running() {
			lifetime.reset()
			if err := inj.Webhook.Start(ctx, time.Minute); err != nil {
				t.Errorf("restarting the webhook: %v", err)
			}
		}
	})
	pid := inj.Webhook.PID()
	if err := inj.Webhook.Stop(30 * time.Second); err != nil {
		t.Errorf("graceful shutdown on SIGTERM: %v", err)
	}
	if inj.Webhook.Running() {
		t.Fatalf("webhook pid %d still running", pid)
	}

	t.Run("Ignore", func(t *testing.T) {
		if err := inj.WaitPassing(ctx, policyDeadline); err != nil {
			t.Fatal(err)
		}
		pod, _ := createPod(t, ns, harness.WorkspacePod("ws-webhook-down", nil))
		assertUntouched(t, pod)
	})

	t.Run("Fail", func(t *testing.T) {
		if err := harness.SetFailurePolicy(ctx, inj.Client, admissionv1.Fail); err != nil {
			t.Fatal(err)
		}
		if err := inj.WaitRejecting(ctx, policyDeadline); err != nil {
			t.Fatal(err)
		}
		_, err := inj.Client.CoreV1().Pods(ns).Create(ctx, harness.WorkspacePod("ws-rejected", nil), metav1.CreateOptions{})
		if err == nil {
			t.Fatal("pod created although the webhook is down and failurePolicy is Fail")
		}
		if !strings.Contains(err.Error(), `failed calling webhook "`+harness.WebhookName+`"`) {
			t.Errorf("rejection does not name the webhook: %v", err)
		}
		if _, getErr := inj.Client.CoreV1().Pods(ns).Get(ctx, "ws-rejected", metav1.GetOptions{}); !apierrors.IsNotFound(getErr) {
			t.Errorf("rejected pod must not exist; get: %v", getErr)
		}
		t.Logf("API server said: %v", err)
	})

	t.Run("Restart", func(t *testing.T) {
		lifetime.reset()
		if err := inj.Webhook.Start(ctx, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := inj.WaitInjecting(ctx, policyDeadline); err != nil {
			t.Fatal(err)
		}
		if inj.Webhook.PID() == pid {
			t.Errorf("webhook pid %d did not change across the restart", pid)
		}
		settle(t, ns, libDefault, templatesDefault)
		fresh := scrape(t)
		if err := lifetime.check(ctx); err != nil {
			t.Errorf("a restarted process must count from zero: %v", err)
		}

		pod, _ := createPod(t, ns, harness.WorkspacePod("ws-resumed", nil))
		assertInjected(t, pod, libDefault, templatesDefault)
		expectDelta(t, fresh, injected(libDefault, templatesDefault, "none"))
	})
}
