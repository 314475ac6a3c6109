package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// ErrNoCertificate is wrapped when PEM data holds no certificate at all.
var ErrNoCertificate = errors.New("no PEM certificate")

// MaxBundleCerts bounds how many certificates a bundle may hold: ours never holds more than two
// (old and new CA during a rotation); anything longer was not written by us and is rebuilt.
const MaxBundleCerts = 8

// ParseCerts parses every CERTIFICATE block of PEM data. Blocks of other types are an error, as
// is data with no certificate or with trailing garbage: a half-written bundle must not pass for
// a shorter valid one.
func ParseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := bytes.TrimSpace(data)
	for len(rest) > 0 {
		block, r := pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("bytes after certificate %d are not PEM", len(out))
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is a %q, want CERTIFICATE", len(out)+1, block.Type)
		}
		if len(out) == MaxBundleCerts {
			return nil, fmt.Errorf("more than %d certificates", MaxBundleCerts)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
		rest = bytes.TrimSpace(r)
	}
	if len(out) == 0 {
		return nil, ErrNoCertificate
	}
	return out, nil
}

// EncodeCerts is the PEM bundle of certs, in order.
func EncodeCerts(certs []*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// Merge concatenates lists, keeping the first occurrence of each certificate (by its DER bytes)
// and dropping certificates expired at now: an expired CA verifies nothing, so carrying it only
// grows the bundle.
func Merge(now time.Time, lists ...[]*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, l := range lists {
		for _, c := range l {
			if c == nil || now.After(c.NotAfter) || Contains(out, c) {
				continue
			}
			out = append(out, c)
		}
	}
	return out
}

// Contains reports whether bundle holds c (same DER bytes).
func Contains(bundle []*x509.Certificate, c *x509.Certificate) bool {
	for _, b := range bundle {
		if bytes.Equal(b.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// SameSet reports whether a and b hold the same certificates, ignoring order and duplicates.
func SameSet(a, b []*x509.Certificate) bool {
	for _, c := range a {
		if !Contains(b, c) {
			return false
		}
	}
	for _, c := range b {
		if !Contains(a, c) {
			return false
		}
	}
	return true
}

// Verify checks that leaf chains to one of roots as a TLS server certificate for dnsName at now.
func Verify(leaf *x509.Certificate, roots []*x509.Certificate, dnsName string, now time.Time) error {
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		DNSName:     dnsName,
		Roots:       pool,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return fmt.Errorf("verifying the serving certificate: %w", err)
	}
	return nil
}
