//go:build e2e && linux

package faults

import (
	"context"
	"fmt"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

var policies = []admissionv1.FailurePolicyType{admissionv1.Ignore, admissionv1.Fail}

// TestRoutingFollowsReadiness: the mechanism every fault relies on. With replica 2 taken out of
// its EndpointSlice, every review of a burst of Pods reaches replica 1; given back, both get some.
func TestRoutingFollowsReadiness(t *testing.T) {
	ctx := t.Context()
	r := newRun(t, "routing", admissionv1.Ignore)
	count := func() [2]float64 {
		var out [2]float64
		for i, rep := range c.replicas {
			sn, err := harness.Scrape(ctx, rep.wh.MetricsAddr)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = sn.Get(harness.Review("injected", "none"))
		}
		return out
	}
	create := func(n int, prefix string) {
		for i := range n {
			pod := harness.WorkspacePod(fmt.Sprintf("%s-%d", prefix, i), nil)
			if _, err := c.cp.Client.CoreV1().Pods(r.plain).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := c.eps.force(ctx, 1, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.eps.force(context.Background(), 1, false) })
	// The API server's informer may lag the etcd write by a moment: the first Pods may still go to
	// replica 2. Wait until a Pod lands on replica 1 only... by counting over a burst after one
	// probe Pod went through replica 1.
	if err := harness.Poll(ctx, 10*time.Second, func(context.Context) (bool, error) {
		before := count()
		create(1, fmt.Sprintf("warm-%d", time.Now().UnixNano()%100000))
		after := count()
		return after[0] == before[0]+1, nil
	}); err != nil {
		t.Fatal(err)
	}
	before := count()
	create(20, "out")
	after := count()
	if d0, d1 := after[0]-before[0], after[1]-before[1]; d0 != 20 || d1 != 0 {
		t.Fatalf("replica 2 out of its slice: replica 1 got %g reviews, replica 2 got %g; want 20 and 0", d0, d1)
	}
	if err := c.eps.force(ctx, 1, false); err != nil {
		t.Fatal(err)
	}
	if err := harness.Poll(ctx, 10*time.Second, func(context.Context) (bool, error) {
		before := count()
		create(10, fmt.Sprintf("back-%d", time.Now().UnixNano()%100000))
		after := count()
		return after[1] > before[1], nil
	}); err != nil {
		t.Fatalf("replica 2 back in its slice never got a review: %v", err)
	}
}

// TestKillOneReplica: SIGKILL one replica under load, start it again 2 s later. Ignore: nothing
// fails, every un-injected Pod is in the gauge. Fail: at most the creations in flight at the kill
// fail.
func TestKillOneReplica(t *testing.T) {
	for i, policy := range policies {
		t.Run(string(policy), func(t *testing.T) {
			ctx := t.Context()
			r := newRun(t, "sigkill", policy)
			r.start()
			hold(ctx, faultLength()/2)
			killed := time.Now()
			if err := c.replicas[i].kill(); err != nil {
				t.Fatal(err)
			}
			// Until its slice says not ready, the API server may still send reviews to the dead
			// replica: the kubelet's probe period in a cluster, 50 ms and an informer hop here.
			if err := harness.Poll(ctx, 10*time.Second, func(context.Context) (bool, error) { return !c.eps.readyIn(i), nil }); err != nil {
				t.Fatal(err)
			}
			out := time.Now()
			hold(ctx, 2*time.Second) // the fault: dead for 2 s
			if err := c.restart(ctx, i); err != nil {
				t.Fatal(err)
			}
			hold(ctx, faultLength()/2)
			attempts := r.load.finish()
			res := r.finish()
			// In flight at the kill: sent before it and answered after it. Exposed: those, plus the
			// ones sent before the endpoint left the slice.
			inFlight, exposed := 0, 0
			for _, a := range attempts {
				if a.start.Before(killed) && a.end.After(killed) {
					inFlight++
				}
				if a.start.Before(out) && a.end.After(killed) {
					exposed++
				}
			}
			res.Notes = append(res.Notes, fmt.Sprintf("in flight at the kill: %d; sent before the endpoint left the slice (%s after the kill): %d",
				inFlight, out.Sub(killed).Round(time.Millisecond), exposed))
			r.report(res)
			wantNoWrong(t, res)
			if policy == admissionv1.Ignore {
				if res.Failed+res.Other != 0 {
					t.Errorf("Ignore: %d creations failed, want 0", res.Failed+res.Other)
				}
				r.wantGauge(res)
			} else {
				if res.Failed+res.Other > exposed {
					t.Errorf("Fail: %d creations failed, more than the %d in flight at the kill or sent before its endpoint left", res.Failed+res.Other, exposed)
				}
				if res.Uninjected != 0 {
					t.Errorf("Fail: %d Pods stored un-injected", res.Uninjected)
				}
			}
		})
	}
}

// preStop is the chart's preStopSleepSeconds (5): a terminating replica's endpoint is marked not
// ready (the EndpointSlice controller does so when the Pod is deleted) and the replica keeps serving
// this long before the kubelet sends SIGTERM. The short form pauses 1 s: here endpoints follow in
// ~100 ms, and the pause only has to outlast that.
func preStop() time.Duration {
	if *full {
		return 5 * time.Second
	}
	return time.Second
}

// TestRollingRestart: one replica at a time is taken out of its slice, keeps serving for the
// preStop pause, gets SIGTERM and is started again; then the other. No creation fails, no Pod is
// stored un-injected, under either policy. The full form also measures SIGTERM without the pause
// (the binary alone, as without the chart's preStop hook), reported and checked for versions only.
func TestRollingRestart(t *testing.T) {
	for _, policy := range policies {
		t.Run(string(policy), func(t *testing.T) {
			res := rolling(t, "rolling", policy, preStop())
			if res.Failed+res.Other != 0 {
				t.Errorf("%d creations failed during a rolling restart, want 0", res.Failed+res.Other)
			}
			if res.Uninjected != 0 {
				t.Errorf("%d Pods stored un-injected during a rolling restart, want 0", res.Uninjected)
			}
		})
		if *full {
			t.Run(string(policy)+"/without-preStop", func(t *testing.T) { rolling(t, "rolling-bare", policy, 0) })
		}
	}
}

func rolling(t *testing.T, fault string, policy admissionv1.FailurePolicyType, pause time.Duration) result {
	t.Helper()
	ctx := t.Context()
	r := newRun(t, fault, policy)
	r.start()
	hold(ctx, faultLength()/3)
	for i := range c.replicas {
		if pause > 0 {
			if err := c.eps.force(ctx, i, true); err != nil {
				t.Fatal(err)
			}
			hold(ctx, pause) // the preStop pause: the fault's definition
		}
		if err := c.replicas[i].wh.Stop(30 * time.Second); err != nil {
			t.Errorf("SIGTERM %s: %v", c.replicas[i].name, err)
		}
		if pause > 0 {
			c.eps.release(i)
		}
		if err := c.restart(ctx, i); err != nil {
			t.Fatal(err)
		}
		hold(ctx, faultLength()/3)
	}
	res := r.finish()
	if pause > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("endpoint out %s before SIGTERM (preStop)", pause))
	} else {
		res.Notes = append(res.Notes, "SIGTERM with the endpoint still ready (no preStop)")
	}
	r.report(res)
	wantNoWrong(t, res)
	return res
}

func wantNoWrong(t *testing.T, res result) {
	t.Helper()
	if res.Wrong != 0 {
		t.Errorf("%d Pods stored with the wrong version, want 0", res.Wrong)
	}
	if res.Other != 0 {
		t.Errorf("%d creations failed for another reason than the webhook or an unreachable API server", res.Other)
	}
}

// wantGauge: every Pod stored un-injected is counted by tiltlib_workspace_pods{configmap="none"}
// in its namespace (max over the replicas, as the dashboard reads it).
func (r *run) wantGauge(res result) {
	r.t.Helper()
	for _, ns := range []string{r.pinned, r.plain} {
		pods, err := c.cp.Client.CoreV1().Pods(ns).List(r.t.Context(), metav1.ListOptions{LabelSelector: runLabel + "=" + r.id})
		if err != nil {
			r.t.Fatal(err)
		}
		n := 0
		for _, p := range pods.Items {
			if p.Annotations[harness.KeyStatus] == "" {
				n++
			}
		}
		if err := c.checkGauge(r.t.Context(), ns, n); err != nil {
			r.t.Error(err)
		}
	}
}
