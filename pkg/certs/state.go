package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Phase is where the state is in the CA rotation (see the package doc).
type Phase string

// Phases of the CA rotation.
const (
	// PhaseStable: one CA, in the bundle, signing the leaf.
	PhaseStable Phase = "stable"
	// PhaseAdding: a next CA is in the bundle next to the current one; the leaf is still signed
	// by the current CA until the API server's caBundle is seen to hold the next one.
	PhaseAdding Phase = "adding"
	// PhaseRetiring: the leaf is signed by the new CA; the previous CA stays in the bundle until
	// RetireAt, when no leaf it signed can still be valid.
	PhaseRetiring Phase = "retiring"
)

// Policy holds the lifetimes and waits of the state machine.
type Policy struct {
	CALifetime, CertLifetime time.Duration
	// Settle is how long the published caBundle must have held the next CA before leaves switch
	// to it: the API server reads webhook configurations through its own informer, a little
	// after the object changes.
	Settle time.Duration
	// Margin is added after the last leaf signed by the previous CA expires before that CA
	// leaves the bundle: clock skew between replicas and the API server.
	Margin time.Duration
}

// NewPolicy derives Settle and Margin from the lifetimes: a few seconds normally, shorter for the
// second-scale lifetimes of tests (a fifth and a quarter of the leaf lifetime at most).
func NewPolicy(caLifetime, certLifetime time.Duration) Policy {
	return Policy{
		CALifetime:   caLifetime,
		CertLifetime: certLifetime,
		Settle:       min(5*time.Second, certLifetime/5),
		Margin:       min(time.Minute, certLifetime/4),
	}
}

// Validate rejects lifetimes the rotation cannot honour: the CA starts rotating at 2/3 of its
// life and the previous CA stays trusted until the last leaf it signed expires (plus Settle and
// Margin), so a leaf may last at most a quarter of the CA: the rotation then ends by 11/12 of
// the old CA's life.
func (p Policy) Validate() error {
	if p.CALifetime <= 0 || p.CertLifetime <= 0 {
		return errors.New("lifetimes must be positive")
	}
	if p.CertLifetime > p.CALifetime/4 {
		return fmt.Errorf("certificate lifetime %s is more than a quarter of the CA lifetime %s: the CA could expire before a rotation completes", p.CertLifetime, p.CALifetime)
	}
	return nil
}

// State is the content of the certificate Secret, parsed. A nil CA or Leaf means "none usable":
// Step issues one.
type State struct {
	Phase Phase
	// CA signs Leaf.
	CA *KeyPair
	// Next is the CA being introduced (PhaseAdding only).
	Next *KeyPair
	Leaf *KeyPair
	// Bundle is what the webhook configuration's caBundle must hold.
	Bundle []*x509.Certificate
	// PublishedAt is when a replica first saw the caBundle hold Next (PhaseAdding).
	PublishedAt time.Time
	// RetireAt is when the previous CA leaves the bundle (PhaseRetiring).
	RetireAt time.Time
}

// RenewAt is the point at 2/3 of a certificate's validity where it is replaced.
func RenewAt(c *x509.Certificate) time.Time {
	return c.NotBefore.Add(c.NotAfter.Sub(c.NotBefore) * 2 / 3)
}

// caRenewAt is when Step starts replacing the signing CA c and leafRenewAt when it replaces the
// leaf c: at 2/3 of the certificate's validity, but no later than 2/3 of the longest validity
// the policy issues (backdating included) after c's NotBefore. For a certificate we issued the
// two are the same point; one put in the Secret by someone else with a far NotAfter is replaced
// on our schedule instead of staying trusted for as long as its NotAfter says.
func (p Policy) caRenewAt(c *x509.Certificate) time.Time   { return renewAt(c, p.CALifetime) }
func (p Policy) leafRenewAt(c *x509.Certificate) time.Time { return renewAt(c, p.CertLifetime) }

func renewAt(c *x509.Certificate, lifetime time.Duration) time.Time {
	bound := c.NotBefore.Add((lifetime + backdate(lifetime)) * 2 / 3)
	if r := RenewAt(c); r.Before(bound) {
		return r
	}
	return bound
}

// Deadline is the next instant at which Step may change s without any outside event (zero when
// only an outside event can): the caller re-runs Step then.
func (s State) Deadline(p Policy) time.Time {
	var ds []time.Time
	if s.Leaf != nil {
		ds = append(ds, p.leafRenewAt(s.Leaf.Cert))
	}
	switch s.Phase {
	case PhaseStable:
		if s.CA != nil {
			ds = append(ds, p.caRenewAt(s.CA.Cert))
		}
	case PhaseAdding:
		if !s.PublishedAt.IsZero() {
			ds = append(ds, s.PublishedAt.Add(p.Settle))
		}
	case PhaseRetiring:
		ds = append(ds, s.RetireAt)
	}
	var first time.Time
	for _, d := range ds {
		if first.IsZero() || d.Before(first) {
			first = d
		}
	}
	return first
}
