package certs

import (
	"crypto/x509"
	"io"
	"time"
)

// Input is what Step knows besides the Secret's content.
type Input struct {
	Now      time.Time
	Policy   Policy
	DNSNames []string
	// Trusted are the CAs that every webhook entry pointing at our Service trusts, as the
	// webhook configuration was last seen; nil when it is missing or has no such entry.
	Trusted []*x509.Certificate
	// Rand is the entropy for keys and serial numbers (crypto/rand.Reader).
	Rand io.Reader
}

// Event names a transition Step made, for the log.
type Event string

// Events of Step.
const (
	EventIssuedCA        Event = "issued a new CA"
	EventIssuedLeaf      Event = "issued a serving certificate"
	EventRenewedLeaf     Event = "renewed the serving certificate (2/3 of its lifetime passed)"
	EventRotationStart   Event = "CA rotation 1/3: next CA added to the bundle"
	EventPublished       Event = "CA rotation: the webhook caBundle holds the next CA"
	EventUnpublished     Event = "CA rotation: the webhook caBundle no longer holds the next CA; waiting"
	EventSwitched        Event = "CA rotation 2/3: serving certificate now signed by the new CA"
	EventRetired         Event = "CA rotation 3/3: previous CA removed from the bundle"
	EventRotationAbort   Event = "CA rotation 1/3 restarted: the next CA was unusable; a new one added to the bundle"
	EventBundleRepaired  Event = "bundle rebuilt"
	EventRetireAtClamped Event = "CA rotation: retire-at lay beyond the last possible expiry of a leaf the previous CA signed, plus the margin; clamped (was the Secret edited?)"
)

// Step is the state machine: given the Secret's state and the world it sees, it returns the
// state the Secret should hold and what changed. It is pure apart from drawing keys from
// in.Rand: no clock, no I/O. Applying Step to its own result at the same Input changes nothing
// more (it is idempotent), which is what lets every replica run it without a leader: whoever
// writes first wins, the others re-read and find nothing left to do.
func Step(s State, in Input) (State, []Event, error) {
	var ev []Event
	now, p := in.Now, in.Policy
	if s.CA == nil {
		ca, err := NewCA(in.Rand, now, p.CALifetime)
		if err != nil {
			return s, nil, err
		}
		s = State{Phase: PhaseStable, CA: ca}
		ev = append(ev, EventIssuedCA)
	}

	switch s.Phase {
	case PhaseAdding:
		s.RetireAt = time.Time{}
		switch {
		case s.Next == nil:
			next, err := NewCA(in.Rand, now, p.CALifetime)
			if err != nil {
				return s, nil, err
			}
			s.Next, s.PublishedAt = next, time.Time{}
			ev = append(ev, EventRotationAbort)
		case !Contains(in.Trusted, s.Next.Cert):
			if !s.PublishedAt.IsZero() {
				s.PublishedAt = time.Time{}
				ev = append(ev, EventUnpublished)
			}
		case s.PublishedAt.IsZero():
			s.PublishedAt = now
			ev = append(ev, EventPublished)
		case !now.Before(s.PublishedAt.Add(p.Settle)):
			s = switchCA(s, now, p)
			ev = append(ev, EventSwitched)
		}
	case PhaseRetiring:
		s.Next, s.PublishedAt = nil, time.Time{}
		// switchCA never sets it later than now + CertLifetime + Margin; a later one was
		// written by someone else and would keep the previous CA trusted and the rotation
		// suspended. The backdating is the clock skew tolerated between replicas: one a little
		// behind the replica that switched must not rewrite its retire-at.
		if bound := now.Add(p.CertLifetime + p.Margin + backdate(p.CertLifetime)); s.RetireAt.After(bound) {
			s.RetireAt = bound
			ev = append(ev, EventRetireAtClamped)
		}
		if !now.Before(s.RetireAt) {
			s.Phase, s.RetireAt = PhaseStable, time.Time{}
			ev = append(ev, EventRetired)
		}
	default:
		s.Phase, s.Next, s.PublishedAt, s.RetireAt = PhaseStable, nil, time.Time{}, time.Time{}
		if !now.Before(p.caRenewAt(s.CA.Cert)) {
			next, err := NewCA(in.Rand, now, p.CALifetime)
			if err != nil {
				return s, nil, err
			}
			s.Phase, s.Next = PhaseAdding, next
			ev = append(ev, EventRotationStart)
		}
	}

	if s.Leaf == nil || !now.Before(p.leafRenewAt(s.Leaf.Cert)) {
		e := EventRenewedLeaf
		if s.Leaf == nil {
			e = EventIssuedLeaf
		}
		leaf, err := NewLeaf(in.Rand, s.CA, now, p.CertLifetime, in.DNSNames)
		if err != nil {
			return s, nil, err
		}
		s.Leaf = leaf
		ev = append(ev, e)
	}

	bundle := wantBundle(s, now, in.Trusted)
	if len(ev) == 0 && !sameList(bundle, s.Bundle) {
		ev = append(ev, EventBundleRepaired)
	}
	s.Bundle = bundle
	return s, ev, nil
}

// switchCA makes the next CA the signing one. The previous CA stays in the bundle until the
// last leaf it signed has expired (plus the margin): replicas only ever serve leaves from the
// Secret, and the one being replaced now is the newest the previous CA signed, so after its
// NotAfter no replica can serve a valid leaf that needs the previous CA. The leaf is cleared
// so Step issues one from the new CA.
func switchCA(s State, now time.Time, p Policy) State {
	retire := now
	if s.Leaf != nil && s.Leaf.Cert.NotAfter.After(retire) {
		retire = s.Leaf.Cert.NotAfter
	}
	prev := s.CA
	return State{
		Phase:    PhaseRetiring,
		CA:       s.Next,
		Bundle:   Merge(now, []*x509.Certificate{s.Next.Cert, prev.Cert}),
		RetireAt: retire.Add(p.Margin),
	}
}

// wantBundle is the bundle of each phase: the signing CA, plus the next CA while adding, plus
// the previous CA while retiring. The previous CA is kept from the stored bundle only while the
// caBundle (trusted) still holds it: it got there when it was the signing CA, published by a
// keeper, which is a record that whoever can edit the Secret cannot forge. So the retiring phase
// only ever takes CAs out of the caBundle, and a CA appended to the Secret's bundle never gets in.
func wantBundle(s State, now time.Time, trusted []*x509.Certificate) []*x509.Certificate {
	own := []*x509.Certificate{s.CA.Cert}
	switch s.Phase {
	case PhaseAdding:
		if s.Next != nil {
			return Merge(now, own, []*x509.Certificate{s.Next.Cert})
		}
	case PhaseRetiring:
		var prev []*x509.Certificate
		for _, c := range s.Bundle {
			if Contains(trusted, c) {
				prev = append(prev, c)
			}
		}
		return Merge(now, own, prev)
	}
	return own
}

func sameList(a, b []*x509.Certificate) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}
