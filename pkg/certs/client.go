package certs

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"time"
)

// NewClientLeaf issues a client certificate for commonName (in the Kubernetes groups given as
// organizations) signed by ca, with NewLeaf's validity and key. The webhook never presents one; it
// is what an operator's API server presents to a webhook started with --client-ca
// (docs/security.md), and what the e2e harness makes for that setup and for its node.
func NewClientLeaf(rnd io.Reader, ca *KeyPair, now time.Time, lifetime time.Duration, commonName string, groups ...string) (*KeyPair, error) {
	leaf, err := NewLeaf(rnd, ca, now, lifetime, []string{commonName})
	if err != nil {
		return nil, err
	}
	// NewLeaf's certificate signed again as a client's: no DNS names, client authentication only,
	// a serial of its own. The serving one never leaves here.
	tmpl := *leaf.Cert
	tmpl.Subject = pkix.Name{CommonName: commonName, Organization: groups}
	tmpl.RawSubject = nil // the parsed certificate's; x509 would sign it instead of Subject
	tmpl.DNSNames = nil
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if tmpl.SerialNumber, err = newSerial(rnd); err != nil {
		return nil, err
	}
	return sign(rnd, &tmpl, ca.Cert, leaf.Key, ca.Key)
}
