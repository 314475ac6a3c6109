//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// followDeadline bounds how long a change in the cluster (a ConfigMap synced by ArgoCD, a
// Namespace re-annotated) may take to reach the webhook's informer caches: "within seconds".
const followDeadline = 10 * time.Second

// TestPinnedConfigMapMissing: the Namespace pins v9, which is not published. The Pod falls back
// to the ConfigMap that exists, the developer's client receives the warning, and an Event on the
// Namespace records it.
func TestPinnedConfigMapMissing(t *testing.T) {
	ns := namespace(t, "missing", map[string]string{harness.KeyVersion: "v9"}, "tilt-lib", "tilt-templates")
	libFallback := want{ConfigMap: "tilt-lib", Version: "1.4.0", Source: "fallback"}
	settle(t, ns, libFallback, templatesDefault)
	before := scrape(t)

	pod, warnings := createPod(t, ns, harness.WorkspacePod("ws-missing", nil))
	assertInjected(t, pod, libFallback, templatesDefault)
	assertWarning(t, warnings, `"tilt-lib-v9"`, "not found")
	expectDelta(t, before, injected(libFallback, templatesDefault, "configmap_missing"))

	waitEvent(t, ns, "tilt-lib-v9")
}

// waitEvent waits for a Warning Event in ns whose note mentions fragment. Events are recorded
// asynchronously (never on the admission path), so they may trail the Pod by a moment.
func waitEvent(t *testing.T, ns, fragment string) {
	t.Helper()
	var seen []string
	err := harness.Poll(context.Background(), followDeadline, func(ctx context.Context) (bool, error) {
		list, err := inj.Client.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		seen = seen[:0]
		for _, e := range list.Items {
			seen = append(seen, e.Reason+": "+e.Note)
			if e.Type == corev1.EventTypeWarning && strings.Contains(e.Note, fragment) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Errorf("no Warning Event mentioning %s in namespace %s (saw %q): %v", fragment, ns, seen, err)
	}
}

// TestConfigMapCreatedLater: the Namespace pins v2 before tilt-lib-v2 is published; once ArgoCD
// creates it, new Pods get it within seconds, with no restart of the webhook.
func TestConfigMapCreatedLater(t *testing.T) {
	ns := namespace(t, "later", map[string]string{harness.KeyVersion: "v2"}, "tilt-lib", "tilt-templates")
	settle(t, ns, want{ConfigMap: "tilt-lib", Version: "1.4.0", Source: "fallback"}, templatesDefault)

	createConfigMap(t, ns, "tilt-lib-v2")
	start := time.Now()
	followed(t, ns, libV2Namespace)
	t.Logf("tilt-lib-v2 honoured %s after it was created", time.Since(start).Round(time.Millisecond))

	admitWorkspace(t, ns, "ws-later", nil, libV2Namespace, templatesDefault, "none")
}

// TestNamespaceAnnotationChanged: re-pinning a Namespace changes what the next Pod gets; the
// Pod created before keeps what it was admitted with.
func TestNamespaceAnnotationChanged(t *testing.T) {
	ns := namespace(t, "repin", map[string]string{harness.KeyVersion: "v2"},
		"tilt-lib", "tilt-lib-v2", "tilt-lib-v3", "tilt-templates")
	settle(t, ns, libV2Namespace, templatesDefault)
	before := scrape(t)

	first, _ := createPod(t, ns, harness.WorkspacePod("ws-before", nil))
	assertInjected(t, first, libV2Namespace, templatesDefault)

	ctx := context.Background()
	n, err := inj.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Annotations[harness.KeyVersion] = "v3"
	if _, err := inj.Client.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("re-annotating namespace: %v", err)
	}
	start := time.Now()
	followed(t, ns, libV3Namespace)
	t.Logf("namespace re-pin honoured after %s", time.Since(start).Round(time.Millisecond))

	second, warnings := createPod(t, ns, harness.WorkspacePod("ws-after", nil))
	assertInjected(t, second, libV3Namespace, templatesDefault)
	assertNoWarnings(t, warnings)

	kept, err := inj.Client.CoreV1().Pods(ns).Get(ctx, first.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertInjected(t, kept, libV2Namespace, templatesDefault)

	want := injected(libV2Namespace, templatesDefault, "none")
	want.Merge(injected(libV3Namespace, templatesDefault, "none"))
	expectDelta(t, before, want)
}

// followed waits, under followDeadline, until a dry-run Pod in ns gets lib.
func followed(t *testing.T, ns string, lib want) {
	t.Helper()
	var last string
	err := harness.Poll(context.Background(), followDeadline, func(ctx context.Context) (bool, error) {
		p, err := inj.DryRunCreate(ctx, ns, harness.WorkspacePod("follow", nil))
		if err != nil {
			return false, err
		}
		rec, _, err := harness.InjectedRecord(p)
		if err != nil {
			return false, err
		}
		last = harness.Show(rec.Lib)
		return same(rec.Lib, lib), nil
	})
	if err != nil {
		t.Fatalf("webhook did not follow to %+v within %s (last: %s): %v", lib, followDeadline, last, err)
	}
}
