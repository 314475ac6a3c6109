package harness

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
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
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("client CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "tilt-lib-injector e2e admission client CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("client CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parsing the client CA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("client key: %w", err)
	}
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "kube-apiserver-webhook-client"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding the client key: %w", err)
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
		{a.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})},
		{a.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})},
		{a.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})},
		{kubeconfig, fmt.Appendf(nil, webhookKubeconfig, a.CertFile, a.KeyFile)},
		{a.ConfigFile, fmt.Appendf(nil, admissionConfig, kubeconfig)},
	} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return nil, fmt.Errorf("writing %s: %w", f.path, err)
		}
	}
	return a, nil
}

// serial is a random 128-bit certificate serial number. pkg/certs issues only server certificates;
// this client pair is the harness's stand-in for the API server's own client identity.
func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n
}
