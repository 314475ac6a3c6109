package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync/atomic"
)

// ErrNotServing is returned by GetCertificate before any certificate was loaded.
var ErrNotServing = errors.New("no serving certificate loaded yet")

// Served is the certificate the webhook presents, held in memory and swapped atomically: a
// handshake in progress keeps the certificate it started with. The zero value serves nothing.
// Safe for concurrent use.
type Served struct {
	cur atomic.Pointer[servedCert]
}

type servedCert struct {
	tls    tls.Certificate
	issuer *x509.Certificate // the CA that signed the leaf, when known
}

// Load parses a PEM certificate and key and serves them from now on. issuer may be nil.
func (s *Served) Load(certPEM, keyPEM []byte, issuer *x509.Certificate) error {
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("loading the serving certificate: %w", err)
	}
	s.cur.Store(&servedCert{tls: c, issuer: issuer})
	return nil
}

// GetCertificate is tls.Config.GetCertificate.
func (s *Served) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c := s.cur.Load()
	if c == nil {
		return nil, ErrNotServing
	}
	return &c.tls, nil
}

// Leaf is the certificate served now, nil before any.
func (s *Served) Leaf() *x509.Certificate {
	if c := s.cur.Load(); c != nil {
		return c.tls.Leaf
	}
	return nil
}

// Issuer is the CA of the certificate served now, nil when unknown.
func (s *Served) Issuer() *x509.Certificate {
	if c := s.cur.Load(); c != nil {
		return c.issuer
	}
	return nil
}
