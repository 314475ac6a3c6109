package certs

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"net"
	"slices"
	"testing"
	"time"
)

// A leaf with IP SANs is NewLeaf's leaf plus the addresses: it verifies for the names and the
// addresses, under the same CA, with the same validity and usages.
func TestLeafWithIPsAddsOnlyTheAddresses(t *testing.T) {
	ca := mustCA(t, t0, time.Hour)
	names := DNSNames("inj", "tools")
	ip := net.ParseIP("127.0.10.42")
	plain, err := NewLeaf(rand.Reader, ca, t0, 10*time.Minute, names)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := NewLeafWithIPs(rand.Reader, ca, t0, 10*time.Minute, names, []net.IP{ip})
	if err != nil {
		t.Fatal(err)
	}
	c, p := leaf.Cert, plain.Cert
	if len(c.IPAddresses) != 1 || !c.IPAddresses[0].Equal(ip) || !slices.Equal(c.DNSNames, p.DNSNames) ||
		!c.NotBefore.Equal(p.NotBefore) || !c.NotAfter.Equal(p.NotAfter) || c.KeyUsage != p.KeyUsage ||
		!slices.Equal(c.ExtKeyUsage, p.ExtKeyUsage) || c.Subject.String() != p.Subject.String() || c.IsCA {
		t.Errorf("leaf with IPs differs from NewLeaf's beyond the addresses:\n%+v\n%+v", c, p)
	}
	if _, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM); err != nil {
		t.Errorf("certificate and key do not pair: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for _, host := range append(names, ip.String()) {
		opts := x509.VerifyOptions{DNSName: host, Roots: roots, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if _, err := c.Verify(opts); err != nil {
			t.Errorf("does not verify for %s: %v", host, err)
		}
	}
	if _, err := c.Verify(x509.VerifyOptions{DNSName: "127.0.10.43", Roots: roots, CurrentTime: t0}); err == nil {
		t.Error("verifies for an address it was not issued for")
	}
	none, err := NewLeafWithIPs(rand.Reader, ca, t0, 10*time.Minute, names, nil)
	if err != nil || len(none.Cert.IPAddresses) != 0 {
		t.Errorf("without addresses: %v, IPs %v", err, none.Cert.IPAddresses)
	}
}
