//go:build e2e

package e2e

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestDryRun: a server-side dry-run create (kubectl apply --dry-run=server) shows the mutation,
// stores nothing, and moves no metric.
func TestDryRun(t *testing.T) {
	ns := namespace(t, "dryrun", map[string]string{harness.KeyVersion: "v2"}, "tilt-lib", "tilt-lib-v2", "tilt-templates")
	settle(t, ns, libV2Namespace, templatesDefault)
	before := scrape(t)

	ctx := context.Background()
	pod, err := inj.DryRunCreate(ctx, ns, harness.WorkspacePod("ws-dry-run", nil))
	if err != nil {
		t.Fatalf("dry-run create: %v", err)
	}
	assertInjected(t, pod, libV2Namespace, templatesDefault)
	if _, err := inj.Client.CoreV1().Pods(ns).Get(ctx, "ws-dry-run", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("dry-run pod must not be stored; get: %v", err)
	}
	expectDelta(t, before, harness.Expect{})
}

// TestDryRunHasNoSideEffects: the registration promises sideEffects NoneOnDryRun, so a dry-run
// with a finding returns the warning (as a real create would) but records no Event. Proving an
// absence needs a barrier, not a sleep: a real create with the same finding in a second
// namespace goes through the same Event queue after the dry-run; once its Event exists, an
// Event for the dry-run would exist too.
func TestDryRunHasNoSideEffects(t *testing.T) {
	dry := namespace(t, "dryrun-missing", map[string]string{harness.KeyVersion: "v9"}, "tilt-lib", "tilt-templates")
	barrierNS := namespace(t, "dryrun-barrier", map[string]string{harness.KeyVersion: "v9"}, "tilt-lib", "tilt-templates")
	libFallback := want{ConfigMap: "tilt-lib", Version: "1.4.0", Source: "fallback"}
	settle(t, dry, libFallback, templatesDefault)
	settle(t, barrierNS, libFallback, templatesDefault)
	before := scrape(t)

	ctx := context.Background()
	c, warnings, err := harness.WarningClient(inj.Config)
	if err != nil {
		t.Fatal(err)
	}
	pod, err := c.CoreV1().Pods(dry).Create(ctx, harness.WorkspacePod("ws-dry-missing", nil),
		metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatalf("dry-run create: %v", err)
	}
	assertInjected(t, pod, libFallback, templatesDefault)
	assertWarning(t, warnings.Take(), `"tilt-lib-v9"`)

	barrier, _ := createPod(t, barrierNS, harness.WorkspacePod("ws-barrier", nil))
	assertInjected(t, barrier, libFallback, templatesDefault)
	waitEvent(t, barrierNS, "tilt-lib-v9")
	events, err := inj.Client.EventsV1().Events(dry).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		t.Errorf("dry-run left an Event in %s: %s %s", dry, e.Reason, e.Note)
	}
	expectDelta(t, before, injected(libFallback, templatesDefault, "configmap_missing"))
}
