package review

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ErrNoCertificates: the client CA file holds no PEM certificate.
var ErrNoCertificates = errors.New("no PEM certificate found")

// ClientCA reads the PEM bundle at path and returns a TLS option (for controller-runtime's
// webhook.Options.TLSOpts) that requires every client to present a certificate chaining to it.
// The file is read once, at startup.
//
// With TLS 1.3 a client without a certificate still completes its side of the handshake and is
// refused at its first read; controller-runtime's readiness check, which only dials and closes,
// therefore keeps passing.
func ClientCA(path string) (func(*tls.Config), error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("client CA %s: %w", path, ErrNoCertificates)
	}
	return func(c *tls.Config) {
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}, nil
}
