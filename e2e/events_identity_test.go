//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestBothMissingConfigMapsAreEvents (issue 22): the Namespace pins both components to v9, which
// is published for neither. kubectl prints two warnings, and `kubectl get events` must show two
// Events too, one per component with its own note. Before, client-go's broadcaster folded the
// tilt-templates finding into the tilt-lib Event's series (series.count 2), and its note was
// nowhere.
func TestBothMissingConfigMapsAreEvents(t *testing.T) {
	ns := namespace(t, "both-missing", map[string]string{harness.KeyVersion: "v9", harness.KeyTemplatesVersion: "v9"},
		"tilt-lib", "tilt-templates")
	libFallback := want{ConfigMap: "tilt-lib", Version: "1.4.0", Source: "fallback"}
	templatesFallback := want{ConfigMap: "tilt-templates", Version: "1.1.0", Source: "fallback"}
	settle(t, ns, libFallback, templatesFallback)
	before := scrape(t)

	pod, warnings := createPod(t, ns, harness.WorkspacePod("ws-both-missing", nil))
	assertInjected(t, pod, libFallback, templatesFallback)
	assertWarning(t, warnings, `"tilt-lib-v9"`, "not found")
	assertWarning(t, warnings, `"tilt-templates-v9"`, "not found")
	expectDelta(t, before, injected(libFallback, templatesFallback, "configmap_missing"))

	fragments := []string{`"tilt-lib-v9"`, `"tilt-templates-v9"`}
	var seen []string
	err := harness.Poll(context.Background(), followDeadline, func(ctx context.Context) (bool, error) {
		list, err := inj.Client.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		seen = seen[:0]
		found := map[string]bool{}
		for _, e := range list.Items {
			seen = append(seen, e.Reason+" "+e.Action+": "+e.Note)
			for _, f := range fragments {
				if e.Type == corev1.EventTypeWarning && e.Reason == "ConfigMapMissing" && strings.Contains(e.Note, f) {
					found[f] = true
				}
			}
		}
		return len(found) == len(fragments), nil
	})
	if err != nil {
		t.Errorf("want a ConfigMapMissing Event for each of %q in %s, saw %q: %v", fragments, ns, seen, err)
	}
}
