package certs

import (
	"crypto/x509"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics exports when the served certificates expire.
type Metrics struct {
	expiry *prometheus.GaugeVec
}

// NewMetrics registers tiltlib_certificate_expiry_timestamp_seconds{kind="leaf"|"ca"} on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{expiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tiltlib_certificate_expiry_timestamp_seconds",
		Help: "NotAfter, in Unix seconds, of the certificate the webhook serves (kind=leaf) and of the CA that signed it (kind=ca, when known).",
	}, []string{"kind"})}
	if err := reg.Register(m.expiry); err != nil {
		return nil, fmt.Errorf("registering the certificate metrics: %w", err)
	}
	return m, nil
}

// Observe records the NotAfter of the served leaf and of its CA; a nil certificate leaves its
// series out (files mode without the CA in the chain).
func (m *Metrics) Observe(leaf, ca *x509.Certificate) {
	if m == nil {
		return
	}
	for kind, c := range map[string]*x509.Certificate{"leaf": leaf, "ca": ca} {
		if c == nil {
			m.expiry.DeleteLabelValues(kind)
			continue
		}
		m.expiry.WithLabelValues(kind).Set(float64(c.NotAfter.Unix()))
	}
}

// IssuerInChain picks, from a served chain (leaf first), the certificate that signed the leaf:
// how files mode learns its CA when the issuer put it in tls.crt. Nil when absent.
func IssuerInChain(chain []*x509.Certificate) *x509.Certificate {
	if len(chain) < 2 {
		return nil
	}
	for _, c := range chain[1:] {
		if c.IsCA && chain[0].CheckSignatureFrom(c) == nil {
			return c
		}
	}
	return nil
}
