package harness

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/platform-tools/tilt-lib-injector/pkg/certs"
)

// writeNodePKI creates the node's own CA and, signed by it (pkg/certs issues all three, as it
// issues the webhook's), kubelet's serving certificate (for 127.0.0.1, the address the API server
// dials) and the API server's client certificate for kubelet. Kubelet trusts the CA for clients;
// the API server trusts it for kubelet. Files in dir: ca.crt, kubelet.{crt,key},
// apiserver-kubelet-client.{crt,key}. Valid for a day.
func writeNodePKI(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("node pki dir: %w", err)
	}
	const lifetime = 24 * time.Hour
	now := time.Now()
	ca, err := certs.NewCA(rand.Reader, now, lifetime)
	if err != nil {
		return fmt.Errorf("node CA: %w", err)
	}
	kubelet, err := certs.NewLeafWithIPs(rand.Reader, ca, now, lifetime, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return fmt.Errorf("kubelet serving certificate: %w", err)
	}
	// system:masters: kubelet asks the API server (SubjectAccessReview) whether this client may
	// exec and read logs, and that group may.
	client, err := certs.NewClientLeaf(rand.Reader, ca, now, lifetime, "kube-apiserver-kubelet-client", "system:masters")
	if err != nil {
		return fmt.Errorf("kubelet client certificate: %w", err)
	}
	for name, data := range map[string][]byte{
		"ca.crt":                       ca.CertPEM,
		"kubelet.crt":                  kubelet.CertPEM,
		"kubelet.key":                  kubelet.KeyPEM,
		"apiserver-kubelet-client.crt": client.CertPEM,
		"apiserver-kubelet-client.key": client.KeyPEM,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}
