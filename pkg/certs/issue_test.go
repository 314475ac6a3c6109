package certs

import (
	"crypto/rand"
	"crypto/x509"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func mustCA(t *testing.T, now time.Time, life time.Duration) *KeyPair {
	t.Helper()
	ca, err := NewCA(rand.Reader, now, life)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestLeafHasServiceSANsAndServerUsagesAndChains(t *testing.T) {
	ca := mustCA(t, t0, time.Hour)
	names := DNSNames("inj", "tools")
	want := []string{"inj", "inj.tools", "inj.tools.svc", "inj.tools.svc.cluster.local"}
	if !slices.Equal(names, want) {
		t.Fatalf("DNSNames = %v, want %v", names, want)
	}
	leaf, err := NewLeaf(rand.Reader, ca, t0, 10*time.Minute, names)
	if err != nil {
		t.Fatal(err)
	}
	c := leaf.Cert
	if !slices.Equal(c.DNSNames, want) || c.IsCA {
		t.Errorf("leaf DNSNames=%v IsCA=%v", c.DNSNames, c.IsCA)
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature || !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("leaf usages %v %v", c.KeyUsage, c.ExtKeyUsage)
	}
	if !ca.Cert.IsCA || !ca.Cert.MaxPathLenZero || ca.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA constraints: IsCA=%v MaxPathLenZero=%v usage=%v", ca.Cert.IsCA, ca.Cert.MaxPathLenZero, ca.Cert.KeyUsage)
	}
	if !c.NotAfter.Equal(t0.Add(10*time.Minute)) || !c.NotBefore.Before(t0) {
		t.Errorf("validity %s..%s", c.NotBefore, c.NotAfter)
	}
	for _, n := range want {
		if err := Verify(c, []*x509.Certificate{ca.Cert}, n, t0); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if err := Verify(c, []*x509.Certificate{ca.Cert}, "other.tools.svc", t0); err == nil {
		t.Error("leaf verified for a name it does not carry")
	}
	if err := Verify(c, []*x509.Certificate{mustCA(t, t0, time.Hour).Cert}, want[2], t0); err == nil {
		t.Error("leaf verified against a CA that did not sign it")
	}
	if err := Verify(c, []*x509.Certificate{ca.Cert}, want[2], t0.Add(11*time.Minute)); err == nil {
		t.Error("leaf verified after its NotAfter")
	}
}

func TestLeafNeverOutlivesItsCA(t *testing.T) {
	ca := mustCA(t, t0, time.Hour)
	leaf, err := NewLeaf(rand.Reader, ca, t0.Add(50*time.Minute), 30*time.Minute, DNSNames("a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if !leaf.Cert.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Fatalf("leaf NotAfter %s, CA NotAfter %s", leaf.Cert.NotAfter, ca.Cert.NotAfter)
	}
	if _, err := NewLeaf(rand.Reader, ca, t0, time.Minute, nil); err == nil {
		t.Error("a leaf without names was issued")
	}
}

func TestRenewAtTwoThirdsOfValidity(t *testing.T) {
	ca := mustCA(t, t0, 30*time.Second)
	// 30s lifetime, backdated 3s: validity t0-3s..t0+30s, 2/3 of 33s = 22s after t0-3s.
	if got, want := RenewAt(ca.Cert), t0.Add(19*time.Second); !got.Equal(want) {
		t.Fatalf("RenewAt = %s, want %s", got, want)
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := NewPolicy(40*time.Second, 10*time.Second).Validate(); err != nil {
		t.Errorf("CA 40s / leaf 10s: %v", err)
	}
	if err := NewPolicy(87600*time.Hour, 8760*time.Hour).Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if err := NewPolicy(40*time.Second, 11*time.Second).Validate(); err == nil {
		t.Error("leaf longer than a quarter of the CA accepted")
	}
	if err := NewPolicy(0, 0).Validate(); err == nil {
		t.Error("zero lifetimes accepted")
	}
	p := NewPolicy(87600*time.Hour, 8760*time.Hour)
	if p.Settle != 5*time.Second || p.Margin != time.Minute {
		t.Errorf("default settle/margin %s/%s", p.Settle, p.Margin)
	}
	if p := NewPolicy(30*time.Second, 10*time.Second); p.Settle != 2*time.Second || p.Margin != 2500*time.Millisecond {
		t.Errorf("short settle/margin %s/%s", p.Settle, p.Margin)
	}
}
