package harness

import (
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
	pair, err := tls.LoadX509KeyPair(filepath.Join(c.Dir, "tls.crt"), filepath.Join(c.Dir, "tls.key"))
	if err != nil {
		t.Fatalf("tls.crt/tls.key do not load as a pair: %v", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
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
