package certs

import (
	"crypto/rand"
	"crypto/x509"
	"testing"
	"time"
)

// TestNewClientLeaf: the certificate verifies against its CA for client authentication only, names
// no host, and lives as NewLeaf's would.
func TestNewClientLeaf(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ca, err := NewCA(rand.Reader, now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClientLeaf(rand.Reader, ca, now, time.Hour, "kube-apiserver-webhook-client", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	verify := func(usage x509.ExtKeyUsage) error {
		_, err := c.Cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}})
		return err
	}
	if err := verify(x509.ExtKeyUsageClientAuth); err != nil {
		t.Errorf("client authentication: %v", err)
	}
	if err := verify(x509.ExtKeyUsageServerAuth); err == nil {
		t.Error("the client certificate also verifies for server authentication")
	}
	if c.Cert.Subject.CommonName != "kube-apiserver-webhook-client" || len(c.Cert.DNSNames) != 0 {
		t.Errorf("subject %q, DNS names %v; want the common name only", c.Cert.Subject.CommonName, c.Cert.DNSNames)
	}
	if got := c.Cert.Subject.Organization; len(got) != 1 || got[0] != "system:masters" {
		t.Errorf("organizations %v, want the group system:masters", got)
	}
	if got, want := c.Cert.NotAfter, now.Add(time.Hour); !got.Equal(want) {
		t.Errorf("NotAfter %v, want %v", got, want)
	}
	if len(c.CertPEM) == 0 || len(c.KeyPEM) == 0 {
		t.Error("PEM forms missing")
	}
}
