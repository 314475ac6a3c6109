//go:build e2e && linux

package faults

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// This file sorts last on purpose: Go runs a package's tests in file order, and this fault leaves
// the replicas' reflectors in their backoff for a few seconds (pkg/lookup/backoff.go: at most 3 s
// per retry since the fix; with client-go's default, up to 30 s, reset after 2 minutes without a
// failure, which leaked into the faults after it).

// TestWatchExpired: the replicas' connections to the API server are cut (every watch ends), a pin
// changes and etcd is compacted past it, then the link returns: each resumed watch of Namespaces
// is told its revision is gone (410) and relists. Goal: no wrong version (the old pin is allowed
// until pinDeadline after the link returns) — and the audit log shows the relists happened.
func TestWatchExpired(t *testing.T) {
	for _, policy := range policies {
		t.Run(string(policy), func(t *testing.T) {
			ctx := t.Context()
			r := newRun(t, "watch", policy)
			before, err := c.relists()
			if err != nil {
				t.Fatal(err)
			}
			r.start()
			hold(ctx, faultLength()/2)
			if err := c.link.cut(); err != nil {
				t.Fatal(err)
			}
			patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"v3"}}}`, harness.KeyVersion)
			if _, err := c.cp.Client.CoreV1().Namespaces().Patch(ctx, r.pinned, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
			changed := time.Now()
			if _, err := c.eps.etcd.compact(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.link.restore(); err != nil {
				t.Fatal(err)
			}
			back := time.Now()
			r.oracle.change(r.pinned, pinChange{old: "v2", new: "v3", at: changed, grace: back.Sub(changed) + pinDeadline})
			took, err := honoured(ctx, r.pinned, "v3", back)
			if err != nil {
				t.Fatal(err)
			}
			hold(ctx, faultLength()/2)
			res := r.finish()
			after, err := c.relists()
			if err != nil {
				t.Fatal(err)
			}
			relisted := after["namespaces"] - before["namespaces"]
			res.Notes = append(res.Notes, fmt.Sprintf("pin honoured %s after the link returned", took.Round(10*time.Millisecond)),
				fmt.Sprintf("Namespace relists %d", relisted))
			r.report(res)
			wantNoWrong(t, res)
			if relisted < len(c.replicas) {
				t.Errorf("the audit log shows %d Namespace relists by the replicas, want at least %d: the fault did not force one", relisted, len(c.replicas))
			}
			if took > pinDeadline {
				t.Errorf("the pin took %s after the link returned, goal %s", took, pinDeadline)
			}
		})
	}
}
