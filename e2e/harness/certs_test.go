package harness

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"net"
	"path/filepath"
	"testing"
)

func TestServingCertVerifiesForTheServiceNames(t *testing.T) {
	ip := net.ParseIP("127.0.10.42")
	names := ServiceDNSNames("tilt-lib-injector", "injector")
	c, err := WriteServingCert(t.TempDir(), names, []net.IP{ip})
	if err != nil {
		t.Fatal(err)
	}
	leaf := loadLeaf(t, c.Dir)
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(c.CABundle) {
		t.Fatal("CABundle holds no certificate")
	}
	// The API server verifies <svc>.<ns>.svc; clients may use the long name or the IP.
	for _, host := range append(names, ip.String()) {
		opts := x509.VerifyOptions{DNSName: host, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if _, err := leaf.Verify(opts); err != nil {
			t.Errorf("certificate does not verify for %s: %v", host, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.injector.svc", Roots: roots}); err == nil {
		t.Error("certificate verifies for a name it was not issued for")
	}
}

// TestReissueKeepsTheCAAndNames: a renewal is what cert-manager would write: a new key and
// serial, the same names, signed by the same CA, so an unchanged caBundle still trusts it.
func TestReissueKeepsTheCAAndNames(t *testing.T) {
	names := ServiceDNSNames("tilt-lib-injector", "injector")
	c, err := WriteServingCert(t.TempDir(), names, nil)
	if err != nil {
		t.Fatal(err)
	}
	load := func() *x509.Certificate { t.Helper(); return loadLeaf(t, c.Dir) }
	old := load()
	renewed, err := c.Reissue()
	if err != nil {
		t.Fatal(err)
	}
	served := load()
	if !served.Equal(renewed) || served.SerialNumber.Cmp(old.SerialNumber) == 0 || served.PublicKey.(*ecdsa.PublicKey).Equal(old.PublicKey) {
		t.Fatalf("tls.crt after Reissue: serial %s (was %s); want the returned certificate with a new serial and key",
			served.SerialNumber, old.SerialNumber)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(c.CABundle)
	if _, err := served.Verify(x509.VerifyOptions{DNSName: names[0], Roots: roots}); err != nil {
		t.Errorf("renewed certificate does not verify with the original CA bundle: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(c.Dir, ".*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// loadLeaf loads dir's tls.crt/tls.key as a pair (they must match) and returns the leaf.
func loadLeaf(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	if err != nil {
		t.Fatalf("tls.crt/tls.key do not load as a pair: %v", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}
