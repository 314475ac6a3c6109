package certs

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// secretWrites counts creates and updates of the certificate Secret: each one is a watch event
// for every replica, so a replica that writes on every round is a write loop.
type secretWrites struct {
	client.Writer
	n int
}

func (w *secretWrites) Create(ctx context.Context, obj client.Object, o ...client.CreateOption) error {
	if _, ok := obj.(*corev1.Secret); ok {
		w.n++
	}
	return w.Writer.Create(ctx, obj, o...)
}

func (w *secretWrites) Update(ctx context.Context, obj client.Object, o ...client.UpdateOption) error {
	if _, ok := obj.(*corev1.Secret); ok {
		w.n++
	}
	return w.Writer.Update(ctx, obj, o...)
}

// skewWorld is an API server (whose clock, truth, is the one that verifies the chain) and
// replicas whose node clocks are off by some skew.
type skewWorld struct {
	t      *testing.T
	c      client.Client
	writes *secretWrites
	truth  time.Time
	logs   logLines
}

func newSkewWorld(t *testing.T) *skewWorld {
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(webhookConfig(nil, nil)).Build()
	return &skewWorld{t: t, c: c, writes: &secretWrites{Writer: c}, truth: t0}
}

// replica is a keeper with the default lifetimes (10 y CA, 1 y leaf: 5 min of backdating) whose
// clock reads truth + *skew.
func (w *skewWorld) replica(skew *time.Duration) *Keeper {
	k := newKeeper(w.t, w.c, &w.truth, &w.logs)
	k.Policy = NewPolicy(87600*time.Hour, 8760*time.Hour)
	k.Writer = w.writes
	k.Now = func() time.Time { return w.truth.Add(*skew) }
	return k
}

// rounds runs n rounds of every replica in turn, one second of truth apart (what a write loop
// looks like: each write's watch event starts the next round at once), and returns the Secret
// writes per round.
func (w *skewWorld) rounds(n int, ks ...*Keeper) []int {
	w.t.Helper()
	per := make([]int, n)
	for i := range per {
		before := w.writes.n
		for _, k := range ks {
			reconcileOK(w.t, k)
		}
		per[i] = w.writes.n - before
		w.truth = w.truth.Add(time.Second)
	}
	return per
}

// injects reports whether the API server, at its own clock, trusts the leaf every replica serves.
func (w *skewWorld) injects(ks ...*Keeper) error {
	trusted := Trusted(getCfg(w.t, w.c), svcRef)
	for i, k := range ks {
		leaf := k.Served.Leaf()
		if leaf == nil {
			return fmt.Errorf("replica %d serves nothing", i)
		}
		for _, n := range DNSNames(svcRef.Name, svcRef.Namespace) {
			if err := Verify(leaf, trusted, n, w.truth); err != nil {
				return fmt.Errorf("replica %d: %w", i, err)
			}
		}
	}
	return nil
}

// saidOnce checks that the skew was logged and counted once per replacement, not once per round.
func (w *skewWorld) saidOnce(want int, ks ...*Keeper) {
	w.t.Helper()
	if n := w.logs.count("not valid yet by this replica's clock"); n != want {
		w.t.Errorf("%d log lines about the skew, want %d", n, want)
	}
	got := 0.0
	for _, k := range ks {
		got += testutil.ToFloat64(k.Metrics.notYetValid.WithLabelValues("ca"))
	}
	if got != float64(want) {
		w.t.Errorf("tiltlib_certificate_not_yet_valid_total{kind=\"ca\"} = %v over the replicas, want %d", got, want)
	}
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// The Secret is written by a replica whose node clock is off by skew; then (1) that same replica
// after NTP corrects its clock, or (2) a replica with the right clock, next to the skewed one
// until it is corrected, keeps it. Certificates from a clock up to 5 min ahead are valid as they
// are (NotBefore is backdated by 5 min); from further ahead, the CA is replaced once. Never one
// write per round.
func TestClockSkewRewritesTheSecretAtMostOnce(t *testing.T) {
	const n = 5
	for _, c := range []struct {
		skew      time.Duration
		maxWrites int // after the Secret was created, over all rounds
	}{
		{-time.Hour, 0}, {-5 * time.Minute, 0}, {5 * time.Minute, 0}, {6 * time.Minute, 1}, {time.Hour, 1},
	} {
		t.Run(fmt.Sprintf("%s/same replica after its clock is corrected", c.skew), func(t *testing.T) {
			w := newSkewWorld(t)
			skew := c.skew
			k := w.replica(&skew)
			w.rounds(1, k) // creates the Secret
			skew = 0
			per := w.rounds(n, k)
			t.Logf("skew %s: Secret writes per round after the clock was corrected: %v", c.skew, per)
			if sum(per) > c.maxWrites {
				t.Fatalf("%d Secret writes in %d rounds (%v), want at most %d", sum(per), n, per, c.maxWrites)
			}
			if err := w.injects(k); err != nil {
				t.Fatalf("the API server does not trust the served chain once the clock is right: %v", err)
			}
			w.saidOnce(c.maxWrites, k)
		})
		t.Run(fmt.Sprintf("%s/replica with the right clock next to the skewed one", c.skew), func(t *testing.T) {
			w := newSkewWorld(t)
			skew, right := c.skew, time.Duration(0)
			skewed, ok := w.replica(&skew), w.replica(&right)
			w.rounds(1, skewed) // creates the Secret
			per := w.rounds(n, ok, skewed)
			skew = 0 // NTP catches up
			per = append(per, w.rounds(n, ok, skewed)...)
			t.Logf("skew %s: Secret writes per round (%d skewed, then %d corrected): %v", c.skew, n, n, per)
			if sum(per) > c.maxWrites {
				t.Fatalf("%d Secret writes in %d rounds (%v), want at most %d", sum(per), 2*n, per, c.maxWrites)
			}
			if err := w.injects(ok, skewed); err != nil {
				t.Fatalf("the API server does not trust the served chain: %v", err)
			}
			w.saidOnce(c.maxWrites, ok, skewed)
		})
	}
}

// A leaf renewed by a node whose clock is ahead, under a CA every clock accepts: replaced once
// by the slower clock, whose leaf the faster clock then keeps (no ping-pong between the two).
func TestLeafFromAClockAheadIsReplacedOnce(t *testing.T) {
	slow := newMachine(t)
	slow.policy = NewPolicy(87600*time.Hour, 8760*time.Hour)
	slow.step()
	fast := *slow
	fast.now = slow.now.Add(time.Hour)
	leaf, err := NewLeaf(rand.Reader, slow.s.CA, fast.now, fast.policy.CertLifetime, fast.names)
	if err != nil {
		t.Fatal(err)
	}
	fast.s.Leaf = leaf
	data, ann := Encode(fast.s)

	s, problems := Decode(data, ann, slow.now, slow.names)
	var skew *NotYetValidError
	if len(problems) != 1 || !errors.As(problems[0], &skew) || skew.Kind != "leaf" || skew.Ahead != time.Hour-backdate(fast.policy.CertLifetime) {
		t.Fatalf("problems %v", problems)
	}
	if s.CA == nil || s.Leaf != nil {
		t.Fatal("the CA must be kept and only the leaf replaced")
	}
	slow.s = s
	wantEvents(t, slow.step(), EventIssuedLeaf)
	data, ann = Encode(slow.s)
	for _, m := range []*machine{slow, &fast} {
		got, problems := Decode(data, ann, m.now, m.names)
		if len(problems) != 0 {
			t.Fatalf("at %s: %v", m.now, problems)
		}
		if _, ev, _ := Step(got, m.input()); len(ev) != 0 {
			t.Fatalf("at %s the replaced leaf is not at rest: %v", m.now, ev)
		}
	}
}
