package certs

import (
	"io"
	"net"
	"slices"
	"time"
)

// NewLeafWithIPs is NewLeaf for a server that clients also dial by address: the certificate
// carries ips as IP SANs besides dnsNames. The webhook itself never needs it (the API server dials
// a Service by name); the e2e harness and the load test dial the Service's ClusterIP.
func NewLeafWithIPs(rnd io.Reader, ca *KeyPair, now time.Time, lifetime time.Duration, dnsNames []string, ips []net.IP) (*KeyPair, error) {
	leaf, err := NewLeaf(rnd, ca, now, lifetime, dnsNames)
	if err != nil || len(ips) == 0 {
		return leaf, err
	}
	// NewLeaf's certificate signed again with the addresses added (and a serial of its own), so
	// that validity, names and usages stay exactly NewLeaf's. The first one never leaves here.
	tmpl := *leaf.Cert
	tmpl.IPAddresses = slices.Clone(ips)
	if tmpl.SerialNumber, err = newSerial(rnd); err != nil {
		return nil, err
	}
	return sign(rnd, &tmpl, ca.Cert, leaf.Key, ca.Key)
}
