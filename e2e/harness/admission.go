package harness

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/platform-tools/tilt-lib-injector/pkg/certs"
)

// AdmissionClient is what an operator sets up for the webhook's --client-ca (docs/security.md): a
// client CA, a certificate it signed that the API server presents to webhooks, the kubeconfig
// handing it out and the AdmissionConfiguration naming that kubeconfig.
type AdmissionClient struct {
	// CAFile is the PEM CA to pass as --client-ca.
	CAFile string
	// CertFile and KeyFile are the API server's client certificate and key.
	CertFile, KeyFile string
	// ConfigFile is the AdmissionConfiguration for --admission-control-config-file.
	ConfigFile string
}

// admissionConfig and webhookKubeconfig are docs/security.md's two files. The user is `*` (every
// webhook) rather than the Service name (`tilt-lib-injector.tilt-system.svc`): the suite's
// webhooks listen on ports chosen at run time, and a non-443 port is part of that name.
const (
	admissionConfig = `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
  - name: MutatingAdmissionWebhook
    configuration:
      apiVersion: apiserver.config.k8s.io/v1
      kind: WebhookAdmissionConfiguration
      kubeConfigFile: %s
`
	webhookKubeconfig = `apiVersion: v1
kind: Config
users:
  - name: "*"
    user:
      client-certificate: %s
      client-key: %s
`
)

// WriteAdmissionClient writes a client CA, a client certificate it signed (valid for a day) and
// the two configuration files into dir.
func WriteAdmissionClient(dir string) (*AdmissionClient, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("admission dir: %w", err)
	}
	// pkg/certs issues both, as it issues the webhook's own (docs/security.md makes them with
	// openssl instead); a day is plenty for one suite.
	ca, err := certs.NewCA(rand.Reader, time.Now(), 24*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("client CA: %w", err)
	}
	client, err := certs.NewClientLeaf(rand.Reader, ca, time.Now(), 24*time.Hour, "kube-apiserver-webhook-client")
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	a := &AdmissionClient{
		CAFile: filepath.Join(dir, "client-ca.crt"), CertFile: filepath.Join(dir, "client.crt"),
		KeyFile: filepath.Join(dir, "client.key"), ConfigFile: filepath.Join(dir, "admission.yaml"),
	}
	kubeconfig := filepath.Join(dir, "webhook-client.kubeconfig")
	for _, f := range []struct {
		path string
		data []byte
	}{
		{a.CAFile, ca.CertPEM},
		{a.CertFile, client.CertPEM},
		{a.KeyFile, client.KeyPEM},
		{kubeconfig, fmt.Appendf(nil, webhookKubeconfig, a.CertFile, a.KeyFile)},
		{a.ConfigFile, fmt.Appendf(nil, admissionConfig, kubeconfig)},
	} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return nil, fmt.Errorf("writing %s: %w", f.path, err)
		}
	}
	return a, nil
}
