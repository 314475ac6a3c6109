package certs

import (
	"bytes"
	"crypto/x509"
	"errors"
	"testing"
	"time"
)

func TestMergeDeduplicatesAndDropsExpired(t *testing.T) {
	a, b := mustCA(t, t0, time.Hour), mustCA(t, t0, time.Hour)
	old := mustCA(t, t0.Add(-2*time.Hour), time.Hour) // expired at t0
	got := Merge(t0, []*x509.Certificate{a.Cert, old.Cert}, []*x509.Certificate{b.Cert, a.Cert, b.Cert})
	if len(got) != 2 || !got[0].Equal(a.Cert) || !got[1].Equal(b.Cert) {
		t.Fatalf("Merge = %d certs", len(got))
	}
	if !SameSet(got, []*x509.Certificate{b.Cert, a.Cert, a.Cert}) || SameSet(got, []*x509.Certificate{a.Cert}) {
		t.Error("SameSet ignores order and duplicates but not members")
	}
	// Duplicates in PEM (a bundle concatenated twice) collapse too.
	parsed, err := ParseCerts(append(EncodeCerts(got), EncodeCerts(got)...))
	if err != nil {
		t.Fatal(err)
	}
	if len(Merge(t0, parsed)) != 2 {
		t.Error("duplicated PEM bundle not de-duplicated")
	}
}

func TestParseCertsRejectsHalfWrittenAndForeignData(t *testing.T) {
	a := mustCA(t, t0, time.Hour)
	full := EncodeCerts([]*x509.Certificate{a.Cert, mustCA(t, t0, time.Hour).Cert})
	if c, err := ParseCerts(full); err != nil || len(c) != 2 {
		t.Fatalf("valid bundle: %d, %v", len(c), err)
	}
	cases := map[string][]byte{
		"empty":            nil,
		"truncated":        full[:len(full)-40],
		"trailing garbage": append(append([]byte{}, full...), "garbage"...),
		"key block":        a.KeyPEM,
		"not base64 DER":   []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
		"too many":         bytes.Repeat(EncodeCerts([]*x509.Certificate{a.Cert}), MaxBundleCerts+1),
	}
	for name, data := range cases {
		if _, err := ParseCerts(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseCerts(nil); !errors.Is(err, ErrNoCertificate) {
		t.Errorf("empty: %v", err)
	}
	if c, err := ParseCerts(bytes.Repeat(EncodeCerts([]*x509.Certificate{a.Cert}), MaxBundleCerts)); err != nil || len(c) != MaxBundleCerts {
		t.Errorf("exactly %d certificates: %d, %v", MaxBundleCerts, len(c), err)
	}
}
