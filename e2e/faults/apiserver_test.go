//go:build e2e && linux

package faults

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// pinDeadline is the goal: a pin changed while the webhook could not see it is honoured within
// this long of the webhook seeing the API server again.
const pinDeadline = 5 * time.Second

// apiServerGrace bounds kube-apiserver's graceful shutdown (it would wait up to a minute for the
// webhook's open watches): then SIGKILL, as a kubelet does after a static Pod's grace period. The
// short form waits 2 s (the outage is what matters, not how it began).
func apiServerGrace() time.Duration {
	if *full {
		return 5 * time.Second
	}
	return 2 * time.Second
}

// honoured waits until every running replica, asked directly, answers want for ns, and returns
// how long that took from since.
func honoured(ctx context.Context, ns, want string, since time.Time) (time.Duration, error) {
	if err := c.settle(ctx, ns, want); err != nil {
		return 0, err
	}
	return time.Since(since), nil
}

// TestAPIServerRestart: kube-apiserver stops (the webhook keeps running), a pin changes while it is
// down (written into etcd, as another API server would; etcd is compacted too), and it starts again
// with the same flags. Goals: no stored Pod with a wrong version once it is back (the oracle allows
// the old pin until pinDeadline after its return), and the new pin honoured by every replica
// within pinDeadline.
func TestAPIServerRestart(t *testing.T) {
	for _, policy := range policies {
		t.Run(string(policy), func(t *testing.T) {
			ctx := t.Context()
			r := newRun(t, "apiserver", policy)
			ns, err := c.cp.Client.CoreV1().Namespaces().Get(ctx, r.pinned, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			before, _ := c.relists()
			r.start()
			hold(ctx, faultLength()/2)
			down := time.Now()
			killed, err := c.cp.StopAPIServer(apiServerGrace())
			if err != nil {
				t.Fatal(err)
			}
			ns.APIVersion, ns.Kind = "v1", "Namespace"
			ns.ResourceVersion = ""
			ns.Annotations[harness.KeyVersion] = "v3"
			if err := c.eps.etcd.put(ctx, "namespaces/"+ns.Name, ns); err != nil {
				t.Fatal(err)
			}
			written := time.Now()
			if _, err := c.eps.etcd.compact(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.cp.StartAPIServer(ctx, c.workDir, 2*time.Minute); err != nil {
				t.Fatal(err)
			}
			back := time.Now()
			// The webhook may see the new pin from the moment the API server serves again, a little
			// before StartAPIServer notices: old is required only before the write, new from
			// pinDeadline after the return.
			r.oracle.change(r.pinned, pinChange{old: "v2", new: "v3", at: written, grace: back.Sub(written) + pinDeadline})
			took, err := honoured(ctx, r.pinned, "v3", back)
			if err != nil {
				t.Fatal(err)
			}
			hold(ctx, faultLength()/2)
			res := r.finish()
			after, _ := c.relists()
			how := "SIGTERM"
			if killed {
				how = fmt.Sprintf("SIGTERM, SIGKILL after %s", apiServerGrace())
			}
			res.Notes = append(res.Notes, fmt.Sprintf("API server stopped (%s), not serving for %s", how, back.Sub(down).Round(100*time.Millisecond)),
				fmt.Sprintf("pin changed while down honoured by both replicas %s after its return", took.Round(10*time.Millisecond)),
				fmt.Sprintf("relists (namespaces, configmaps) %d, %d", after["namespaces"]-before["namespaces"], after["configmaps"]-before["configmaps"]))
			r.report(res)
			wantNoWrong(t, res)
			if took > pinDeadline {
				t.Errorf("the pin changed while the API server was down took %s after its return, goal %s", took, pinDeadline)
			}
		})
	}
}

// TestUnreachableAtStart: replica 2 is replaced by one whose API server address refuses every
// connection. Goals: it is never ready (so never in its slice, and the load sees nothing), and
// it never answers a review with a decision (asked directly, every 100 ms, until it exits).
func TestUnreachableAtStart(t *testing.T) {
	ctx := t.Context()
	// A port the test holds, answering every connection by closing it: nothing else can take it.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			conn, err := dead.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	t.Cleanup(func() { _ = dead.Close() })
	kubeconfig := filepath.Join(c.workDir, "unreachable.kubeconfig")
	if err := kubeconfigVia(filepath.Join(c.workDir, "replica-user.kubeconfig"), kubeconfig, dead.Addr().String()); err != nil {
		t.Fatal(err)
	}
	good := c.replicas[1]
	t.Cleanup(func() {
		c.eps.setReplica(1, good)
		if !good.wh.Running() {
			if err := c.restart(context.Background(), 1); err != nil {
				t.Errorf("restoring replica 2: %v", err)
			}
		}
	})
	hc, err := c.directClient()
	if err != nil {
		t.Fatal(err)
	}
	for _, policy := range policies {
		t.Run(string(policy), func(t *testing.T) {
			r := newRun(t, "unreachable", policy)
			if err := good.wh.Stop(30 * time.Second); err != nil {
				t.Fatal(err)
			}
			bad := &replica{name: "r2-unreachable", ip: good.ip, port: good.port, wh: &harness.Webhook{
				Binary: good.wh.Binary, Args: replaceArg(good.wh.Args, "--kubeconfig=", kubeconfig),
				Addr: good.wh.Addr, ProbeAddr: good.wh.ProbeAddr, MetricsAddr: good.wh.MetricsAddr,
				LogPath: filepath.Join(c.workDir, "webhook-r2-unreachable.log"),
			}}
			c.eps.setReplica(1, bad)
			if err := c.waitEndpoints(ctx, true, false); err != nil {
				t.Fatal(err)
			}
			r.start()
			if err := bad.wh.Launch(); err != nil {
				t.Fatal(err)
			}
			started := time.Now()
			t.Logf("unreachable replica launched at %s", started.Format("15:04:05.000"))
			var asked, decisions, readyOnce int
			var exitErr error
			// The full form watches the replica until it gives up by itself (10 s: its /version
			// check); the short form for faultLength, then ends it.
			watch := time.Minute
			if !*full {
				watch = faultLength()
			}
			for bad.wh.Running() && time.Since(started) < watch {
				if bad.ready(ctx) {
					readyOnce++
				}
				a := review(ctx, hc, bad.addr(), r.plain)
				asked++
				if a.decision() {
					decisions++
					if decisions == 1 {
						t.Logf("decision from the unreachable replica: HTTP %d, allowed=%v, status %+v",
							a.HTTP, a.Review.Response.Allowed, a.Review.Response.Result)
					}
				}
				hold(ctx, 100*time.Millisecond) // the asking period
			}
			exitErr = bad.wh.Wait(0)
			if bad.wh.Running() {
				exitErr = fmt.Errorf("still running after %s, then SIGTERM", watch)
				if err := bad.wh.Stop(10 * time.Second); err != nil {
					exitErr = fmt.Errorf("still running after %s, then SIGTERM: %w", watch, err)
				}
			}
			t.Logf("unreachable replica gone at %s", time.Now().Format("15:04:05.000"))
			lived := time.Since(started)
			res := r.finish()
			res.Notes = append(res.Notes, fmt.Sprintf("unreachable replica: ready %d times, %d decisions to %d direct reviews, ended after %s (%v)",
				readyOnce, decisions, asked, lived.Round(100*time.Millisecond), exitErr))
			r.report(res)
			wantNoWrong(t, res)
			if readyOnce != 0 {
				t.Errorf("the replica that cannot reach the API server was ready %d times", readyOnce)
			}
			if decisions != 0 {
				t.Errorf("the replica that cannot reach the API server answered %d of %d reviews with a decision", decisions, asked)
			}
			if res.Failed != 0 || res.Uninjected != 0 {
				t.Errorf("with one replica never ready, %d creations failed and %d Pods were stored un-injected; want 0", res.Failed, res.Uninjected)
			}
			c.eps.setReplica(1, good)
			if err := c.restart(ctx, 1); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func replaceArg(args []string, prefix, value string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		if strings.HasPrefix(a, prefix) {
			out[i] = prefix + value
		}
	}
	return out
}
