package certs

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestServedSwapsAtomicallyAndRefusesBeforeLoad(t *testing.T) {
	var s Served
	if _, err := s.GetCertificate(nil); !errors.Is(err, ErrNotServing) {
		t.Fatalf("before load: %v", err)
	}
	ca := mustCA(t, t0, time.Hour)
	leaf, err := NewLeaf(rand.Reader, ca, t0, time.Minute, DNSNames("a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Load(leaf.CertPEM, ca.KeyPEM, ca.Cert); err == nil {
		t.Fatal("loaded a certificate with another key")
	}
	if err := s.Load(leaf.CertPEM, leaf.KeyPEM, ca.Cert); err != nil {
		t.Fatal(err)
	}
	c, err := s.GetCertificate(nil)
	if err != nil || !c.Leaf.Equal(leaf.Cert) || !s.Issuer().Equal(ca.Cert) {
		t.Fatalf("served %v, %v", c, err)
	}
}

func TestExpiryMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	ca := mustCA(t, t0, time.Hour)
	leaf, err := NewLeaf(rand.Reader, ca, t0, time.Minute, DNSNames("a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	m.Observe(leaf.Cert, ca.Cert)
	if testutil.ToFloat64(m.expiry.WithLabelValues("ca")) != float64(ca.Cert.NotAfter.Unix()) ||
		testutil.ToFloat64(m.expiry.WithLabelValues("leaf")) != float64(leaf.Cert.NotAfter.Unix()) {
		t.Fatal("wrong values")
	}
	m.Observe(leaf.Cert, nil) // files mode without the CA in tls.crt: no ca series
	if n := testutil.CollectAndCount(m.expiry); n != 1 {
		t.Fatalf("%d series, want leaf only", n)
	}
	if _, err := NewMetrics(reg); err == nil {
		t.Fatal("registered twice")
	}
}
