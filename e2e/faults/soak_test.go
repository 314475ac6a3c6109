//go:build e2e && linux

package faults

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// soakLength and soakPeriod: the full form's soak, 10 minutes of creation with a fault about
// every 30 s (a replica SIGKILLed and restarted 2 s later, or the API server restarted).
const (
	soakLength = 10 * time.Minute
	soakPeriod = 30 * time.Second
)

// TestSoak (full form only): goals under Ignore: no workspace lost (no creation refused because of
// the webhook), no wrong version, and each replica's RSS flat (quoted at start and end; a
// replica's RSS at the end of its life may not exceed 1.5× its RSS after its first period, plus
// 16 MiB). Each period's Pods are checked, then deleted, so the Pod cache stays the same size.
func TestSoak(t *testing.T) {
	if !*full {
		t.Skip("the soak runs in the full form only (make faults, or -faults.full)")
	}
	ctx := t.Context()
	type life struct {
		first, last int64
		from, to    time.Time
	}
	lives := map[int]*life{} // by PID
	sample := func() {
		for _, r := range c.replicas {
			rss, err := r.rssBytes()
			if err != nil || rss == 0 {
				continue
			}
			pid := r.wh.PID()
			if lives[pid] == nil {
				lives[pid] = &life{first: rss, from: time.Now()}
			}
			lives[pid].last, lives[pid].to = rss, time.Now()
		}
	}
	var total result
	deadline := time.Now().Add(soakLength)
	for period := 0; time.Now().Before(deadline); period++ {
		r := newRun(t, fmt.Sprintf("soak%02d", period), admissionv1.Ignore)
		sample()
		r.start()
		hold(ctx, time.Duration(rand.Int64N(int64(soakPeriod/2)))+soakPeriod/4)
		if rand.IntN(3) == 0 {
			if _, err := c.cp.StopAPIServer(apiServerGrace()); err != nil {
				t.Fatal(err)
			}
			if err := c.cp.StartAPIServer(ctx, c.workDir, 2*time.Minute); err != nil {
				t.Fatal(err)
			}
			r.results.Notes = append(r.results.Notes, "API server restarted")
		} else {
			i := rand.IntN(len(c.replicas))
			if err := c.replicas[i].kill(); err != nil {
				t.Fatal(err)
			}
			hold(ctx, 2*time.Second)
			if err := c.restart(ctx, i); err != nil {
				t.Fatal(err)
			}
			r.results.Notes = append(r.results.Notes, "SIGKILL "+c.replicas[i].name)
		}
		hold(ctx, soakPeriod/4)
		sample()
		res := r.finish()
		r.report(res)
		total.Sent += res.Sent
		total.Created += res.Created
		total.Failed += res.Failed
		total.APIDown += res.APIDown
		total.Uninjected += res.Uninjected
		total.Wrong += res.Wrong
		total.Other += res.Other
		for _, ns := range []string{r.pinned, r.plain} {
			if err := c.cp.Client.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
				t.Errorf("deleting the Pods of %s: %v", ns, err)
			}
		}
	}
	total.Fault, total.Policy = "soak 10 min", "Ignore"
	for pid, l := range lives {
		total.Notes = append(total.Notes, fmt.Sprintf("pid %d RSS %d → %d MiB over %s", pid, l.first>>20, l.last>>20, l.to.Sub(l.from).Round(time.Second)))
		if l.last > l.first*3/2+16<<20 {
			t.Errorf("replica pid %d: RSS grew from %d to %d MiB", pid, l.first>>20, l.last>>20)
		}
	}
	(&run{t: t}).report(total)
	if total.Failed+total.Other != 0 {
		t.Errorf("%d workspaces lost (creation refused because of the webhook) under Ignore", total.Failed+total.Other)
	}
	if total.Wrong != 0 {
		t.Errorf("%d Pods with the wrong version", total.Wrong)
	}
}
