package certs

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// Keys of the certificate Secret's data.
const (
	KeyCACert     = "ca.crt"
	KeyCAKey      = "ca.key"
	KeyCert       = "tls.crt"
	KeyKey        = "tls.key"
	KeyBundle     = "ca-bundle.crt"
	KeyNextCACert = "next-ca.crt"
	KeyNextCAKey  = "next-ca.key"
)

// Annotations of the certificate Secret.
const (
	AnnotationPhase       = "certs.tilt-lib.platform/phase"
	AnnotationPublishedAt = "certs.tilt-lib.platform/published-at"
	AnnotationRetireAt    = "certs.tilt-lib.platform/retire-at"
)

// ErrCorrupt is wrapped by every problem Decode reports.
var ErrCorrupt = errors.New("unusable certificate Secret content")

// NotYetValidError is a certificate of the Secret whose validity starts after the reader's
// clock: it was issued by a node whose clock runs ahead of the reader's by more than the
// backdating of NotBefore (backdate), so nothing it signs verifies here yet. Decode reports it
// (wrapped with ErrCorrupt) and Step replaces the certificate once, from the reader's clock,
// which every clock further ahead also accepts: never one rewrite per round.
type NotYetValidError struct {
	// Kind is "ca" (the signing or the next CA) or "leaf".
	Kind      string
	NotBefore time.Time
	// Ahead is how far NotBefore lies beyond the reader's clock.
	Ahead time.Duration
}

func (e *NotYetValidError) Error() string {
	return fmt.Sprintf("not valid before %s, %s ahead of this replica's clock (clock skew between nodes?)",
		e.NotBefore.UTC().Format(time.RFC3339), e.Ahead)
}

func checkNotBefore(kind string, c *x509.Certificate, now time.Time) error {
	if now.Before(c.NotBefore) {
		return &NotYetValidError{Kind: kind, NotBefore: c.NotBefore, Ahead: c.NotBefore.Sub(now)}
	}
	return nil
}

// Encode is the Secret data and annotations of s. It is deterministic: equal states encode to
// equal maps, so a caller writes only when Encode's output changed.
func Encode(s State) (map[string][]byte, map[string]string) {
	data := map[string][]byte{}
	ann := map[string]string{AnnotationPhase: string(s.Phase)}
	if s.CA != nil {
		data[KeyCACert], data[KeyCAKey] = s.CA.CertPEM, s.CA.KeyPEM
	}
	if s.Leaf != nil {
		data[KeyCert], data[KeyKey] = s.Leaf.CertPEM, s.Leaf.KeyPEM
	}
	if s.Next != nil {
		data[KeyNextCACert], data[KeyNextCAKey] = s.Next.CertPEM, s.Next.KeyPEM
	}
	if len(s.Bundle) > 0 {
		data[KeyBundle] = EncodeCerts(s.Bundle)
	}
	if !s.PublishedAt.IsZero() {
		ann[AnnotationPublishedAt] = s.PublishedAt.UTC().Format(time.RFC3339Nano)
	}
	if !s.RetireAt.IsZero() {
		ann[AnnotationRetireAt] = s.RetireAt.UTC().Format(time.RFC3339Nano)
	}
	return data, ann
}

// Decode parses Secret data and annotations at now, keeping every part that is usable and
// reporting each part that is not (bad PEM, a key that does not match its certificate, an
// expired or non-CA CA, a certificate not valid yet at now (NotYetValidError), a leaf its CA did
// not sign or that lacks one of dnsNames). Unusable
// parts come back nil; Step replaces them. Decode never fails as a whole: a corrupt Secret is
// repaired, not a reason to crash.
func Decode(data map[string][]byte, ann map[string]string, now time.Time, dnsNames []string) (State, []error) {
	var s State
	var problems []error
	// format wraps its error with %w, so callers can tell a NotYetValidError apart.
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...))
	}
	switch p := Phase(ann[AnnotationPhase]); p {
	case PhaseStable, PhaseAdding, PhaseRetiring:
		s.Phase = p
	default:
		if len(data) > 0 {
			bad("phase %q", p)
		}
		s.Phase = PhaseStable
	}
	ca, err := decodeCA(data[KeyCACert], data[KeyCAKey], now)
	if err != nil {
		if len(data) > 0 {
			bad("CA (%s, %s): %w", KeyCACert, KeyCAKey, err)
		}
		return State{Phase: PhaseStable}, problems
	}
	s.CA = ca
	if s.Phase == PhaseAdding {
		if s.Next, err = decodeCA(data[KeyNextCACert], data[KeyNextCAKey], now); err != nil {
			bad("next CA (%s, %s): %w", KeyNextCACert, KeyNextCAKey, err)
		}
	}
	if s.Leaf, err = decodeLeaf(data[KeyCert], data[KeyKey], ca, now, dnsNames); err != nil {
		bad("serving certificate (%s, %s): %w", KeyCert, KeyKey, err)
	}
	if s.Bundle, err = ParseCerts(data[KeyBundle]); err != nil {
		bad("bundle (%s): %w", KeyBundle, err)
	}
	if s.PublishedAt, err = decodeTime(ann[AnnotationPublishedAt]); err != nil {
		bad("%s: %w", AnnotationPublishedAt, err)
	}
	if s.RetireAt, err = decodeTime(ann[AnnotationRetireAt]); err != nil {
		bad("%s: %w", AnnotationRetireAt, err)
	}
	return s, problems
}

func decodeCA(certPEM, keyPEM []byte, now time.Time) (*KeyPair, error) {
	kp, err := decodePair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	if !kp.Cert.IsCA || kp.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, errors.New("not a CA certificate")
	}
	if now.After(kp.Cert.NotAfter) {
		return nil, fmt.Errorf("expired at %s", kp.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	// Kept, a CA from the future would make every leaf issued under it fail the next check: a
	// new leaf on every round.
	if err := checkNotBefore("ca", kp.Cert, now); err != nil {
		return nil, err
	}
	return kp, nil
}

func decodeLeaf(certPEM, keyPEM []byte, ca *KeyPair, now time.Time, dnsNames []string) (*KeyPair, error) {
	kp, err := decodePair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	if err := checkNotBefore("leaf", kp.Cert, now); err != nil {
		return nil, err
	}
	for _, n := range dnsNames {
		if err := Verify(kp.Cert, []*x509.Certificate{ca.Cert}, n, now); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
	}
	return kp, nil
}

// decodePair parses exactly one certificate and its EC private key and checks they belong
// together.
func decodePair(certPEM, keyPEM []byte) (*KeyPair, error) {
	certs, err := ParseCerts(certPEM)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("%d certificates, want 1", len(certs))
	}
	block, rest := pem.Decode(keyPEM)
	if block == nil || !onlySpace(rest) {
		return nil, errors.New("key is not one PEM block")
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	pub, ok := certs[0].PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, errors.New("key does not match the certificate")
	}
	return &KeyPair{Cert: certs[0], Key: key, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

func onlySpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

func decodeTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, v)
}
