//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// sprayedNamespaces is how many namespaces the forged reviews name, one review each.
const sprayedNamespaces = 20

// TestForgedReviewsSprayingNamespacesStayWithinTheEventsBudget: a client that can reach the
// webhook port (no client CA) posts one forged review per namespace, each pinning a version that
// does not exist: a Warning Event per namespace is what the per-namespace limit allows. The real
// API server receives at most --events-per-minute of them; the rest are counted as over_budget.
// With a budget above the spray every namespace gets its Event: the per-namespace path is
// unchanged, and that is what the spray produced before the budget existed.
func TestForgedReviewsSprayingNamespacesStayWithinTheEventsBudget(t *testing.T) {
	for _, c := range []struct {
		name   string
		budget int
		want   int
	}{
		{"budget 5", 5, 5},
		{"budget above the spray", 10000, sprayedNamespaces},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			// Namespaces exist before the replica starts: its cache knows them all once ready. Each
			// publishes the defaults, so a review pinning a missing version has one finding
			// (configmap_missing, tilt-lib falls back), one Event.
			namespaces := make([]string, sprayedNamespaces)
			for i := range namespaces {
				namespaces[i] = namespace(t, "spray", nil, "tilt-lib", "tilt-templates")
			}
			w := extraWebhook(t, fmt.Sprintf("spray-%d", c.budget), "", fmt.Sprintf("--events-per-minute=%d", c.budget))
			if err := w.Start(ctx, time.Minute); err != nil {
				t.Fatal(err)
			}
			const version = "v404" // published nowhere
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS(t, 0, 0)}, Timeout: dialTimeout}
			for i, ns := range namespaces {
				pod := harness.WorkspacePod(fmt.Sprintf("forged-%d", i), map[string]string{harness.KeyVersion: version})
				pod.Namespace = ns
				body := admissionReview(t, types.UID(fmt.Sprintf("spray-%d-%d", c.budget, i)), pod)
				resp, err := client.Post("https://"+w.Addr+"/mutate-v1-pod", "application/json", bytes.NewReader(body))
				if err != nil {
					t.Fatalf("forged review %d: %v", i, err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("forged review %d: HTTP %d", i, resp.StatusCode)
				}
			}
			// Every finding is decided once the drops are counted; then the Events it let
			// through reach the API server.
			overBudget := harness.Series{Name: "tiltlib_events_dropped_total", Labels: map[string]string{"cause": "over_budget"}}
			var dropped float64
			err := harness.Poll(ctx, followDeadline, func(ctx context.Context) (bool, error) {
				sn, err := harness.Scrape(ctx, w.MetricsAddr)
				if err != nil {
					return false, nil
				}
				dropped = sn.Get(overBudget)
				return dropped == float64(sprayedNamespaces-c.want), nil
			})
			if err != nil {
				t.Fatalf("over_budget drops %g, want %d (log %s): %v", dropped, sprayedNamespaces-c.want, w.LogPath, err)
			}
			var got int
			err = harness.Poll(ctx, followDeadline, func(ctx context.Context) (bool, error) {
				got = 0
				for _, ns := range namespaces {
					n, err := warningEvents(ctx, ns)
					if err != nil {
						return false, err
					}
					got += n
				}
				return got >= c.want, nil
			})
			if err != nil || got != c.want {
				t.Fatalf("%d Warning Events for %d forged reviews in %d namespaces, want %d (budget %d): %v",
					got, sprayedNamespaces, sprayedNamespaces, c.want, c.budget, err)
			}
			t.Logf("budget %d: %d forged reviews in %d namespaces -> %d Events, %g over_budget",
				c.budget, sprayedNamespaces, sprayedNamespaces, got, dropped)
		})
	}
}

// warningEvents counts the injector's Warning Events in ns.
func warningEvents(ctx context.Context, ns string) (int, error) {
	list, err := inj.Client.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range list.Items {
		if e.Type == corev1.EventTypeWarning && e.ReportingController == "tilt-lib-injector" {
			n++
		}
	}
	return n, nil
}
