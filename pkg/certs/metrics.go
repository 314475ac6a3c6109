package certs

import (
	"crypto/x509"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics exports when the served certificates expire and how often the Secret held
// certificates from a clock ahead of ours.
type Metrics struct {
	expiry      *prometheus.GaugeVec
	notYetValid *prometheus.CounterVec
}

// NewMetrics registers tiltlib_certificate_expiry_timestamp_seconds{kind="leaf"|"ca"} and
// tiltlib_certificate_not_yet_valid_total{kind="leaf"|"ca"} on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		expiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tiltlib_certificate_expiry_timestamp_seconds",
			Help: "NotAfter, in Unix seconds, of the certificate the webhook serves (kind=leaf) and of the CA that signed it (kind=ca, when known).",
		}, []string{"kind"}),
		notYetValid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tiltlib_certificate_not_yet_valid_total",
			Help: "Certificates (kind=ca|leaf) found in the Secret whose NotBefore lay ahead of this replica's clock, issued by a node whose clock is ahead by more than NotBefore's backdating (5 min, or a tenth of a shorter lifetime), and replaced (self mode). Any increase means clock skew between nodes.",
		}, []string{"kind"}),
	}
	for _, c := range []prometheus.Collector{m.expiry, m.notYetValid} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering the certificate metrics: %w", err)
		}
	}
	for _, kind := range []string{"ca", "leaf"} {
		m.notYetValid.WithLabelValues(kind) // both series start at 0, so an increase is visible
	}
	return m, nil
}

// NotYetValid counts a certificate of the Secret that was not valid yet by our clock.
func (m *Metrics) NotYetValid(e *NotYetValidError) {
	if m == nil {
		return
	}
	m.notYetValid.WithLabelValues(e.Kind).Inc()
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
