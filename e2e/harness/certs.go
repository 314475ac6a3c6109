package harness

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/platform-tools/tilt-lib-injector/pkg/certs"
)

// ServingCert is a throwaway CA and a serving certificate it signed, issued by pkg/certs (the
// server's own issuer) and written as tls.crt and tls.key into Dir (the layout of a
// kubernetes.io/tls Secret and of controller-runtime's cert dir).
type ServingCert struct {
	Dir string
	// CABundle is the PEM CA certificate for the webhook configuration's caBundle.
	CABundle []byte

	// The CA and the serving certificate's names, kept so Reissue can sign a successor.
	ca       *certs.KeyPair
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

// certLifetime is how long the harness's CA and certificates are valid: longer than any run.
const certLifetime = 24 * time.Hour

// WriteServingCert creates a CA and a certificate for dnsNames and ips, valid for a day, in dir.
func WriteServingCert(dir string, dnsNames []string, ips []net.IP) (*ServingCert, error) {
	ca, err := certs.NewCA(rand.Reader, time.Now(), certLifetime)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cert dir: %w", err)
	}
	c := &ServingCert{Dir: dir, CABundle: ca.CertPEM, ca: ca, dnsNames: dnsNames, ips: ips}
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
	leaf, err := certs.NewLeafWithIPs(rand.Reader, c.ca, time.Now(), certLifetime, c.dnsNames, c.ips)
	if err != nil {
		return nil, err
	}
	// Key first: until tls.crt is replaced too the pair does not match, and a reloader keeps the
	// certificate it has.
	files := []struct {
		name string
		data []byte
	}{
		{"tls.key", leaf.KeyPEM},
		{"tls.crt", leaf.CertPEM},
	}
	for _, f := range files {
		if err := replaceFile(filepath.Join(c.Dir, f.name), f.data); err != nil {
			return nil, err
		}
	}
	return leaf.Cert, nil
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
