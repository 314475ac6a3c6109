package certs

import (
	"context"
	"crypto/rand"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// What an actor who can update the certificate Secret writes to keep a CA of theirs trusted: phase
// retiring, a retire-at a century away, and their CA appended to the bundle after ours.
const century = 100 * 365 * 24 * time.Hour

func forgeRetiring(data map[string][]byte, ann map[string]string, now time.Time, foreign *KeyPair) {
	ann[AnnotationPhase] = string(PhaseRetiring)
	ann[AnnotationRetireAt] = now.Add(century).UTC().Format(time.RFC3339Nano)
	data[KeyBundle] = append(slices.Clone(data[KeyBundle]), foreign.CertPEM...)
}

func TestForgedRetireAtIsClampedAndRotationStillHappens(t *testing.T) {
	m := newMachine(t)
	m.step()
	m.publish()
	m.now = m.now.Add(time.Second)
	data, ann := Encode(m.s)
	forgeRetiring(data, ann, m.now, mustCA(t, m.now, century))
	s, problems := Decode(data, ann, m.now, m.names)
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	m.s = s
	ev := m.step()
	want := m.now.Add(m.policy.CertLifetime + m.policy.Margin + backdate(m.policy.CertLifetime))
	if !m.s.RetireAt.Equal(want) || !slices.Contains(ev, EventRetireAtClamped) {
		t.Fatalf("retire-at %s (events %v), want it clamped to now + certificate lifetime + margin + backdating = %s", m.s.RetireAt, ev, want)
	}
	// The CA rotation the forgery would have suppressed starts on time.
	ca := m.s.CA.Cert
	for m.now.Before(RenewAt(ca)) {
		m.now = m.now.Add(time.Second)
		m.step()
		m.publish()
	}
	if m.s.Phase != PhaseAdding || m.s.Next == nil {
		t.Fatalf("at the CA's renewal time %s: phase %s, no rotation", RenewAt(ca), m.s.Phase)
	}
}

// The latest retire-at switchCA can set (the old leaf renewed just before the switch), read by a
// replica whose clock is behind by the tolerated skew: left alone, not rewritten.
func TestLegitimateRetireAtSurvivesATolerableSkew(t *testing.T) {
	m := rotating(t)
	switched := m.s.PublishedAt.Add(m.policy.Settle)
	m.now = switched.Add(-time.Millisecond)
	m.s.Leaf = nil // renewed just before the switch: it expires CertLifetime after it
	wantEvents(t, m.step(), EventIssuedLeaf)
	m.now = switched
	wantEvents(t, m.step(), EventSwitched, EventIssuedLeaf)
	if want := switched.Add(m.policy.CertLifetime + m.policy.Margin); m.s.RetireAt.Sub(want).Abs() > time.Second {
		t.Fatalf("retire-at %s, want the latest switchCA sets, %s", m.s.RetireAt, want)
	}
	m.now = switched.Add(-backdate(m.policy.CertLifetime))
	if ev := m.step(); slices.Contains(ev, EventRetireAtClamped) {
		t.Fatalf("a replica %s behind rewrote retire-at: %v", backdate(m.policy.CertLifetime), ev)
	}
}

func TestForeignCAInThePreviousSlotIsDropped(t *testing.T) {
	m := newMachine(t)
	m.step()
	m.publish()
	foreign := mustCA(t, m.now, century)
	data, ann := Encode(m.s)
	forgeRetiring(data, ann, m.now, foreign)
	s, _ := Decode(data, ann, m.now, m.names)
	m.s = s
	m.step()
	if Contains(m.s.Bundle, foreign.Cert) || len(m.s.Bundle) != 1 {
		t.Fatalf("bundle of %d keeps a CA the caBundle never held", len(m.s.Bundle))
	}

	// A CA the caBundle does hold (it was once ours, published) stays only until the bound.
	m.published = append(slices.Clone(m.published), foreign.Cert)
	m.s = s
	m.step()
	if !Contains(m.s.Bundle, foreign.Cert) {
		t.Fatal("a previous CA the caBundle holds was dropped at once")
	}
	m.now = m.s.RetireAt
	m.step()
	if Contains(m.s.Bundle, foreign.Cert) || m.s.Phase != PhaseStable {
		t.Fatalf("at the clamped retire-at: phase %s, foreign CA still in the bundle", m.s.Phase)
	}
}

// The same through the keeper and a fake API server: the caBundle never holds the foreign CA,
// the injection never stops, and the CA still rotates.
func TestKeeperNeverPublishesAForgedPreviousCA(t *testing.T) {
	now := t0
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(webhookConfig(nil, nil)).Build()
	var logs logLines
	k := newKeeper(t, c, &now, &logs)
	reconcileOK(t, k)
	firstCA := k.Served.Issuer()

	now = now.Add(time.Second)
	foreign := mustCA(t, now, century)
	sec := &corev1.Secret{}
	if err := c.Get(context.Background(), secretKey, sec); err != nil {
		t.Fatal(err)
	}
	forgeRetiring(sec.Data, sec.Annotations, now, foreign)
	if err := c.Update(context.Background(), sec); err != nil {
		t.Fatal(err)
	}

	for end := t0.Add(110 * time.Second); now.Before(end); now = now.Add(500 * time.Millisecond) {
		reconcileOK(t, k)
		trusted := Trusted(getCfg(t, c), svcRef)
		if Contains(trusted, foreign.Cert) {
			t.Fatalf("at +%s the caBundle trusts the foreign CA", now.Sub(t0))
		}
		if err := Verify(k.Served.Leaf(), trusted, "inj.tools.svc", now); err != nil {
			t.Fatalf("at +%s: %v", now.Sub(t0), err)
		}
	}
	if k.Served.Issuer().Equal(firstCA) {
		t.Fatal("no CA rotation in 110s of a 120s CA")
	}
	if n := logs.count(string(EventRetireAtClamped)); n != 1 {
		t.Fatalf("%d log lines about the clamped retire-at, want 1", n)
	}
}

// A CA or leaf put in the Secret with a NotAfter a century away is replaced at 2/3 of the
// policy's lifetime after its NotBefore, like one of ours, not at 2/3 of its own.
func TestCertificatesWithAFarNotAfterAreReplacedOnOurSchedule(t *testing.T) {
	t.Run("ca", func(t *testing.T) {
		m := newMachine(t)
		// Issued 5 min ahead, so that its validity starts now despite the backdating.
		m.s = State{Phase: PhaseStable, CA: mustCA(t, m.now.Add(5*time.Minute), century)}
		m.step()
		m.publish()
		due := m.s.CA.Cert.NotBefore.Add((m.policy.CALifetime + backdate(m.policy.CALifetime)) * 2 / 3)
		if d := m.s.Deadline(m.policy); d.After(due) || m.s.Phase != PhaseStable {
			t.Fatalf("phase %s, deadline %s after the policy's renewal point %s", m.s.Phase, d, due)
		}
		for m.now.Before(due) {
			m.now = m.now.Add(time.Second)
			m.step()
			m.publish()
		}
		if m.s.Phase != PhaseAdding {
			t.Fatalf("at %s a century-long CA does not rotate (phase %s)", due, m.s.Phase)
		}
	})
	t.Run("leaf", func(t *testing.T) {
		m := newMachine(t)
		m.step()
		m.publish()
		leaf, err := NewLeaf(rand.Reader, m.s.CA, m.now.Add(5*time.Minute), century, m.names)
		if err != nil {
			t.Fatal(err)
		}
		m.s.Leaf = leaf // capped at the CA's NotAfter: still five times the policy's leaf lifetime
		due := leaf.Cert.NotBefore.Add((m.policy.CertLifetime + backdate(m.policy.CertLifetime)) * 2 / 3)
		if d := m.s.Deadline(m.policy); !d.Equal(due) {
			t.Fatalf("deadline %s, want the policy's renewal point %s", d, due)
		}
		m.now = due
		wantEvents(t, m.step(), EventRenewedLeaf)
	})
}
