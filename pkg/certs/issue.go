package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1" // subject key identifiers are SHA-1 by RFC 5280 §4.2.1.2, not a security use
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
)

// KeyPair is a certificate with its private key, in parsed and PEM form.
type KeyPair struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	KeyPEM  []byte
}

// DNSNames are the serving certificate's SANs for Service svc in namespace ns: every name a
// client inside the cluster (the API server included) may use for it.
func DNSNames(svc, ns string) []string {
	return []string{svc, svc + "." + ns, svc + "." + ns + ".svc", svc + "." + ns + ".svc.cluster.local"}
}

// backdate is how far before "now" a certificate's validity starts, so that a verifier whose
// clock is slightly behind ours does not see it as not yet valid; a tenth of the lifetime at most,
// so that second-scale test lifetimes stay meaningful.
func backdate(lifetime time.Duration) time.Duration {
	return min(5*time.Minute, lifetime/10)
}

// NewCA issues a self-signed ECDSA P-256 CA valid for lifetime from now. It may sign serving
// certificates only (path length 0).
func NewCA(rnd io.Reader, now time.Time, lifetime time.Duration) (*KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return nil, fmt.Errorf("generating the CA key: %w", err)
	}
	serial, err := newSerial(rnd)
	if err != nil {
		return nil, err
	}
	ski, err := keyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: fmt.Sprintf("tilt-lib-injector-ca@%d", now.Unix()), Organization: []string{"tilt-lib-injector"}},
		NotBefore:             now.Add(-backdate(lifetime)),
		NotAfter:              now.Add(lifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SubjectKeyId:          ski,
	}
	return sign(rnd, tmpl, tmpl, key, key)
}

// NewLeaf issues a serving certificate for dnsNames signed by ca, valid for lifetime from now but
// never beyond ca's own expiry (a chain is only as valid as its shortest link).
func NewLeaf(rnd io.Reader, ca *KeyPair, now time.Time, lifetime time.Duration, dnsNames []string) (*KeyPair, error) {
	if len(dnsNames) == 0 {
		return nil, errors.New("a serving certificate needs at least one DNS name")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rnd)
	if err != nil {
		return nil, fmt.Errorf("generating the serving key: %w", err)
	}
	serial, err := newSerial(rnd)
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(lifetime)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: dnsNames[len(dnsNames)-1]},
		DNSNames:     append([]string(nil), dnsNames...),
		NotBefore:    now.Add(-backdate(lifetime)),
		NotAfter:     notAfter,
		// ECDSA keys sign the handshake; they never encipher keys, so no KeyEncipherment.
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		AuthorityKeyId:        ca.Cert.SubjectKeyId,
	}
	return sign(rnd, tmpl, ca.Cert, key, ca.Key)
}

func sign(rnd io.Reader, tmpl, parent *x509.Certificate, key, signer *ecdsa.PrivateKey) (*KeyPair, error) {
	der, err := x509.CreateCertificate(rnd, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("signing %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the certificate just signed: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding the key: %w", err)
	}
	return &KeyPair{
		Cert:    cert,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

func newSerial(rnd io.Reader) (*big.Int, error) {
	s, err := rand.Int(rnd, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating a serial number: %w", err)
	}
	return s.Add(s, big.NewInt(1)), nil // never 0
}

func keyID(pub *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding the public key: %w", err)
	}
	sum := sha1.Sum(der) // SHA-1 by RFC 5280, see the import
	return sum[:], nil
}
