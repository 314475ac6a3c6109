package harness

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// ServingCert is a throwaway CA and a serving certificate it signed, written as tls.crt and
// tls.key into Dir (the layout of a kubernetes.io/tls Secret and of controller-runtime's cert dir).
type ServingCert struct {
	Dir string
	// CABundle is the PEM CA certificate for the webhook configuration's caBundle.
	CABundle []byte

	// The CA and the serving certificate's names, kept so Reissue can sign a successor.
	ca       *x509.Certificate
	caKey    *ecdsa.PrivateKey
	dnsNames []string
	ips      []net.IP
}

// ServiceDNSNames are the names the API server may use for a Service (it dials
// <svc>.<ns>.svc; the long form is what in-cluster clients use).
func ServiceDNSNames(service, namespace string) []string {
	return []string{
		service + "." + namespace + ".svc",
		service + "." + namespace + ".svc.cluster.local",
	}
}

// WriteServingCert creates a CA and a certificate for dnsNames and ips, valid for a day, in dir.
func WriteServingCert(dir string, dnsNames []string, ips []net.IP) (*ServingCert, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "tilt-lib-injector e2e CA"},
		NotBefore:             now.Add(-time.Hour), // tolerate clock skew between processes
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parsing the CA certificate: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cert dir: %w", err)
	}
	c := &ServingCert{
		Dir:      dir,
		CABundle: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		ca:       ca, caKey: caKey, dnsNames: dnsNames, ips: ips,
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), c.CABundle, 0o600); err != nil {
		return nil, fmt.Errorf("writing ca.crt: %w", err)
	}
	if _, err := c.Reissue(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reissue signs a new serving certificate (new key, new serial, same names, same CA) and moves
// it into place the way a kubelet updates a mounted Secret or cert-manager a volume: each file
// is written aside and renamed over tls.crt / tls.key, so a reader never sees a partial file.
// It returns the new certificate.
func (c *ServingCert) Reissue() (*x509.Certificate, error) {
	now := time.Now()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("serving key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: c.dnsNames[0]},
		DNSNames:     c.dnsNames,
		IPAddresses:  c.ips,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.ca, &key.PublicKey, c.caKey)
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the serving certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding the serving key: %w", err)
	}
	// Key first: until tls.crt is replaced too the pair does not match, and a reloader keeps the
	// certificate it has.
	files := []struct {
		name string
		data []byte
	}{
		{"tls.key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})},
		{"tls.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})},
	}
	for _, f := range files {
		if err := replaceFile(filepath.Join(c.Dir, f.name), f.data); err != nil {
			return nil, err
		}
	}
	return cert, nil
}

// replaceFile writes data next to path and renames it over path.
func replaceFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		// crypto/rand does not fail on Linux; a fixed serial is still a valid certificate.
		return big.NewInt(1)
	}
	return n
}
