package certs

import (
	"crypto/rand"
	"crypto/x509"
	"maps"
	"slices"
	"testing"
	"time"
)

// machine drives Step with a fake clock and a fake API server that trusts whatever bundle was
// last published, checking the zero-failure invariants at every step.
type machine struct {
	t         *testing.T
	now       time.Time
	policy    Policy
	names     []string
	s         State
	published []*x509.Certificate // the caBundle the API server trusts
}

func newMachine(t *testing.T) *machine {
	// CA 120s, leaf 20s: Settle 4s, Margin 5s.
	return &machine{t: t, now: t0, policy: NewPolicy(120*time.Second, 20*time.Second), names: DNSNames("inj", "tools")}
}

func (m *machine) input() Input {
	return Input{Now: m.now, Policy: m.policy, DNSNames: m.names, Trusted: m.published, Rand: rand.Reader}
}

// step runs Step at the current time and checks:
//   - idempotence: a second Step at the same input changes nothing;
//   - a replica switching to the new leaf passes verification against the bundle the API server
//     trusts right now (before the new bundle is published);
//   - a replica still serving the previous leaf passes verification against the new bundle.
func (m *machine) step() []Event {
	m.t.Helper()
	prev := m.s
	next, ev, err := Step(m.s, m.input())
	if err != nil {
		m.t.Fatal(err)
	}
	again, ev2, err := Step(next, m.input())
	if err != nil || len(ev2) != 0 || !sameEncoding(next, again) {
		m.t.Fatalf("Step is not idempotent at %s: %v then %v (%v)", m.now, ev, ev2, err)
	}
	name := m.names[2]
	if m.published != nil && next.Leaf != prev.Leaf {
		if err := Verify(next.Leaf.Cert, m.published, name, m.now); err != nil {
			m.t.Fatalf("after %v the new leaf fails against the published bundle: %v", ev, err)
		}
	}
	if prev.Leaf != nil && m.now.Before(prev.Leaf.Cert.NotAfter) {
		if err := Verify(prev.Leaf.Cert, next.Bundle, name, m.now); err != nil {
			m.t.Fatalf("after %v the previous leaf fails against the new bundle: %v", ev, err)
		}
	}
	m.s = next
	return ev
}

func (m *machine) publish() { m.published = m.s.Bundle }

func sameEncoding(a, b State) bool {
	ad, aa := Encode(a)
	bd, ba := Encode(b)
	return maps.EqualFunc(ad, bd, slices.Equal) && maps.Equal(aa, ba)
}

func wantEvents(t *testing.T, got []Event, want ...Event) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

func TestFirstStepIssuesCAAndLeaf(t *testing.T) {
	m := newMachine(t)
	wantEvents(t, m.step(), EventIssuedCA, EventIssuedLeaf)
	if m.s.Phase != PhaseStable || len(m.s.Bundle) != 1 || !m.s.Bundle[0].Equal(m.s.CA.Cert) {
		t.Fatalf("phase %s, bundle of %d", m.s.Phase, len(m.s.Bundle))
	}
}

func TestLeafRenewedAtTwoThirdsWithTheSameCA(t *testing.T) {
	m := newMachine(t)
	m.step()
	m.publish()
	ca, leaf := m.s.CA, m.s.Leaf
	m.now = RenewAt(leaf.Cert).Add(-time.Nanosecond)
	wantEvents(t, m.step())
	m.now = RenewAt(leaf.Cert)
	wantEvents(t, m.step(), EventRenewedLeaf)
	// (x509 validity has a resolution of one second.)
	if m.s.CA != ca || m.s.Leaf == leaf || m.now.Add(m.policy.CertLifetime).Sub(m.s.Leaf.Cert.NotAfter) >= time.Second {
		t.Fatal("renewal changed the CA or did not issue a full-lifetime leaf")
	}
}

func TestCARotationStepByStep(t *testing.T) {
	m := newMachine(t)
	m.step()
	m.publish()
	oldCA := m.s.CA

	// 1. At 2/3 of the CA's life the next CA joins the bundle; the leaf stays with the old CA.
	m.now = RenewAt(oldCA.Cert)
	ev := m.step()
	if !slices.Contains(ev, EventRotationStart) || m.s.Phase != PhaseAdding {
		t.Fatalf("events %v phase %s", ev, m.s.Phase)
	}
	next := m.s.Next
	if !SameSet(m.s.Bundle, []*x509.Certificate{oldCA.Cert, next.Cert}) || m.s.CA != oldCA {
		t.Fatal("adding: bundle must be old+next, signing CA still old")
	}

	// Not published yet: however long we wait, leaves do not switch.
	m.now = m.now.Add(10 * time.Second)
	if ev := m.step(); slices.Contains(ev, EventSwitched) || slices.Contains(ev, EventPublished) {
		t.Fatalf("switched before the caBundle held the next CA: %v", ev)
	}

	// The caBundle now holds it: noted, and the settle period starts.
	m.publish()
	wantEvents(t, m.step(), EventPublished)
	if !m.s.PublishedAt.Equal(m.now) {
		t.Fatalf("PublishedAt %s", m.s.PublishedAt)
	}

	// Blanked (helm upgrade) before the switch: the settle period restarts once healed.
	blank := m.published
	m.published = nil
	m.now = m.now.Add(time.Second)
	wantEvents(t, m.step(), EventUnpublished)
	m.published = blank
	wantEvents(t, m.step(), EventPublished)
	m.now = m.s.PublishedAt.Add(m.policy.Settle - time.Nanosecond)
	if ev := m.step(); slices.Contains(ev, EventSwitched) {
		t.Fatal("switched before the settle period passed")
	}

	// 2. Settled: the leaf is now signed by the new CA; both CAs stay in the bundle.
	lastOldLeaf := m.s.Leaf
	m.now = m.s.PublishedAt.Add(m.policy.Settle)
	wantEvents(t, m.step(), EventSwitched, EventIssuedLeaf)
	if m.s.Phase != PhaseRetiring || m.s.CA.Cert != next.Cert || m.s.Next != nil {
		t.Fatalf("phase %s after the switch", m.s.Phase)
	}
	if err := Verify(m.s.Leaf.Cert, []*x509.Certificate{oldCA.Cert}, m.names[0], m.now); err == nil {
		t.Fatal("new leaf still signed by the old CA")
	}
	if !SameSet(m.s.Bundle, []*x509.Certificate{oldCA.Cert, next.Cert}) {
		t.Fatal("retiring: bundle must still hold both CAs")
	}
	if want := lastOldLeaf.Cert.NotAfter.Add(m.policy.Margin); !m.s.RetireAt.Equal(want) {
		t.Fatalf("RetireAt %s, want the last old leaf's NotAfter + margin %s", m.s.RetireAt, want)
	}
	m.publish()

	// 3. The old CA leaves only once no leaf it signed can be valid, plus the margin.
	m.now = m.s.RetireAt.Add(-time.Nanosecond)
	if ev := m.step(); slices.Contains(ev, EventRetired) || !Contains(m.s.Bundle, oldCA.Cert) {
		t.Fatalf("retired early: %v", ev)
	}
	m.publish()
	m.now = m.s.RetireAt
	if ev := m.step(); !slices.Contains(ev, EventRetired) {
		t.Fatalf("not retired at RetireAt: %v", ev)
	}
	if m.now.After(oldCA.Cert.NotAfter) {
		t.Fatalf("the old CA expired (%s) before the rotation ended (%s)", oldCA.Cert.NotAfter, m.now)
	}
	if m.s.Phase != PhaseStable || len(m.s.Bundle) != 1 || !m.s.Bundle[0].Equal(next.Cert) {
		t.Fatalf("after retiring: phase %s, %d certs", m.s.Phase, len(m.s.Bundle))
	}
	if d := m.s.Deadline(m.policy); !d.Equal(RenewAt(m.s.Leaf.Cert)) {
		t.Fatalf("stable deadline %s, want the leaf renewal %s", d, RenewAt(m.s.Leaf.Cert))
	}
}

func TestAddingWithoutUsableNextCARestarts(t *testing.T) {
	m := rotating(t) // published
	m.s.Next = nil   // what Decode returns for a corrupt next-ca.crt
	wantEvents(t, m.step(), EventRotationAbort)
	if m.s.Phase != PhaseAdding || m.s.Next == nil || !m.s.PublishedAt.IsZero() || len(m.s.Bundle) != 2 {
		t.Fatalf("phase %s, published at %s, %d certs", m.s.Phase, m.s.PublishedAt, len(m.s.Bundle))
	}
}

func TestDeadlinePerPhase(t *testing.T) {
	m := newMachine(t)
	m.step()
	m.publish()
	if d := m.s.Deadline(m.policy); !d.Equal(RenewAt(m.s.Leaf.Cert)) {
		t.Errorf("stable: %s", d)
	}
	m.now = RenewAt(m.s.CA.Cert)
	m.step()
	if d := m.s.Deadline(m.policy); !d.Equal(RenewAt(m.s.Leaf.Cert)) {
		t.Errorf("adding, unpublished: %s (only the leaf renewal is due)", d)
	}
	m.publish()
	m.step()
	if d := m.s.Deadline(m.policy); !d.Equal(m.now.Add(m.policy.Settle)) {
		t.Errorf("adding, published: %s", d)
	}
}
