//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

const (
	selfCertSecret = "selfcert-certs"
	// selfCertLabel selects the Pods of one self-cert scenario (value: the scenario's namespace).
	selfCertLabel = "e2e.tilt-lib.platform/selfcert"
	// healDeadline is the "within seconds" the issue promises for a blanked caBundle.
	healDeadline = 5 * time.Second
)

// selfCert is one self-managed-certificate scenario: its own namespace, Service, registration
// and replicas, so that it never touches the suite's files-mode webhook.
type selfCert struct {
	ns, podNS string
	svc       harness.Service
	cfgName   string
	replicas  []*harness.Webhook
}

// newSelfCert creates the namespace, Service and registration (empty caBundle) of a scenario
// and prepares n replicas on 127.0.0.1 ports of their own (not started).
func newSelfCert(t *testing.T, prefix string, n int, policy admissionv1.FailurePolicyType, extra ...string) *selfCert {
	t.Helper()
	ctx := context.Background()
	s := &selfCert{ns: namespace(t, prefix, nil), podNS: namespace(t, prefix+"-ws", nil, "tilt-lib", "tilt-templates")}
	var err error
	if s.svc, err = harness.CreateService(ctx, inj.Client, s.ns, "selfcert"); err != nil {
		t.Fatal(err)
	}
	s.cfgName = "e2e-" + s.ns
	api := inj.Client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	reg := harness.SelfCertRegistration(s.cfgName, s.svc, policy, s.podNS, selfCertLabel, s.ns)
	if _, err := api.Create(ctx, reg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Delete(context.Background(), s.cfgName, metav1.DeleteOptions{}) })
	// The replicas select exactly what their registration's objectSelector does, as the chart
	// wires one value into both (the suite's own injector keeps the workspace label).
	flags := append([]string{"--webhook-config-name=" + s.cfgName, "--cert-secret-name=" + selfCertSecret,
		"--workspace-selector=" + selfCertLabel + "=" + s.ns}, extra...)
	for i := range n {
		port, err := harness.FreePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		w, err := inj.SelfCertReplica(fmt.Sprintf("%s-%d", s.ns, i), s.svc, net.IPv4(127, 0, 0, 1), port, flags...)
		if err != nil {
			t.Fatal(err)
		}
		s.replicas = append(s.replicas, w)
		t.Cleanup(func() {
			if w.Running() {
				if err := w.Stop(30 * time.Second); err != nil {
					t.Errorf("stopping replica %d: %v", i, err)
				}
			}
		})
	}
	return s
}

// launchAll starts every replica back to back (the same instant, as a Deployment's Pods do)
// and waits until all are ready: serving, and trusted by the caBundle.
func (s *selfCert) launchAll(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	for _, w := range s.replicas {
		if err := w.Launch(); err != nil {
			t.Fatal(err)
		}
	}
	for i, w := range s.replicas {
		err := harness.Poll(context.Background(), time.Minute, func(ctx context.Context) (bool, error) {
			if !w.Running() {
				return false, fmt.Errorf("replica %d exited: %v (log %s)", i, w.Wait(0), w.LogPath)
			}
			code, _, err := w.Probe(ctx, "/readyz")
			return err == nil && code == 200, nil
		})
		if err != nil {
			_, body, _ := w.Probe(context.Background(), "/readyz?verbose")
			t.Fatalf("replica %d not ready: %v\n%s", i, err, body)
		}
	}
	return time.Since(start)
}

func (s *selfCert) serverName() string {
	return harness.ServiceDNSNames(s.svc.Name, s.svc.Namespace)[0]
}

// trustedLeaf handshakes with addr verifying against the registration's current caBundle, as
// the API server would, and returns the served leaf.
func (s *selfCert) trustedLeaf(ctx context.Context, addr string) (*x509.Certificate, error) {
	bundle, err := inj.CABundle(ctx, s.cfgName)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bundle) {
		return nil, fmt.Errorf("caBundle holds no certificate (%d bytes)", len(bundle))
	}
	return servedLeaf(addr, &tls.Config{RootCAs: pool, ServerName: s.serverName(), MinVersion: tls.VersionTLS12})
}

// TestSelfCertReplicasConverge: two `webhook serve --cert-mode=self` processes started at the
// same instant end with one Secret, serve the same chain, and both pass a TLS handshake
// verified against the caBundle they published; each exports the expiry of what it serves.
func TestSelfCertReplicasConverge(t *testing.T) {
	ctx := context.Background()
	s := newSelfCert(t, "selfcert-conv", 2, admissionv1.Ignore)
	took := s.launchAll(t)
	t.Logf("two replicas ready (one Secret, caBundle published) %s after launch", took.Round(time.Millisecond))

	secrets, err := inj.Client.CoreV1().Secrets(s.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 1 || secrets.Items[0].Name != selfCertSecret {
		var names []string
		for _, sec := range secrets.Items {
			names = append(names, sec.Name)
		}
		t.Fatalf("Secrets in %s: %v, want exactly [%s]", s.ns, names, selfCertSecret)
	}
	var leaves []*x509.Certificate
	for i, w := range s.replicas {
		leaf, err := s.trustedLeaf(ctx, w.Addr)
		if err != nil {
			t.Fatalf("replica %d: handshake verified against the caBundle: %v", i, err)
		}
		leaves = append(leaves, leaf)
		snap, err := harness.Scrape(ctx, w.MetricsAddr)
		if err != nil {
			t.Fatal(err)
		}
		if got := snap.Get(harness.CertExpirySeries("leaf")); got != float64(leaf.NotAfter.Unix()) {
			t.Errorf("replica %d: leaf expiry metric %v, served NotAfter %d", i, got, leaf.NotAfter.Unix())
		}
		if snap.Get(harness.CertExpirySeries("ca")) < float64(leaf.NotAfter.Unix()) {
			t.Errorf("replica %d: CA expiry metric %v before the leaf's", i, snap.Get(harness.CertExpirySeries("ca")))
		}
	}
	if !bytes.Equal(leaves[0].Raw, leaves[1].Raw) {
		t.Fatalf("replicas serve different certificates (serials %s, %s)", leaves[0].SerialNumber, leaves[1].SerialNumber)
	}
	block, _ := pem.Decode(secrets.Items[0].Data["tls.crt"])
	if block == nil || !bytes.Equal(block.Bytes, leaves[0].Raw) {
		t.Fatal("the served certificate is not the Secret's")
	}
}

// TestSelfCertBlankedCABundleHeals: `helm upgrade` (or an Argo CD sync) rewrites the
// registration with an empty caBundle; the replicas put it back within seconds, and readiness
// follows it down and up.
func TestSelfCertBlankedCABundleHeals(t *testing.T) {
	ctx := context.Background()
	s := newSelfCert(t, "selfcert-heal", 2, admissionv1.Ignore)
	s.launchAll(t)
	api := inj.Client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	for round := range 3 {
		cfg, err := api.Get(ctx, s.cfgName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Webhooks[0].ClientConfig.CABundle = nil
		start := time.Now()
		if _, err := api.Update(ctx, cfg, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		var last string
		err = harness.Poll(ctx, healDeadline, func(ctx context.Context) (bool, error) {
			for _, w := range s.replicas {
				if _, err := s.trustedLeaf(ctx, w.Addr); err != nil {
					last = err.Error()
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil {
			t.Fatalf("round %d: caBundle not healed within %s (last: %s)", round, healDeadline, last)
		}
		t.Logf("round %d: blanked caBundle healed in %s", round, time.Since(start).Round(time.Millisecond))
	}
	for _, w := range s.replicas {
		assertProbe(t, ctx, w, "/readyz", 200)
	}
}

// TestSelfCertUnknownNamespace: a --service-namespace that does not exist stops the server at
// start with a message naming it, instead of a crash loop of API errors.
func TestSelfCertUnknownNamespace(t *testing.T) {
	svc := harness.Service{Name: "selfcert", Namespace: "no-such-namespace"}
	port, err := harness.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	w, err := inj.SelfCertReplica("unknown-ns", svc, net.IPv4(127, 0, 0, 1), port)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Launch(); err != nil {
		t.Fatal(err)
	}
	if err := w.Wait(time.Minute); err == nil {
		t.Fatal("exited 0")
	} else if !w.Running() {
		log, _ := os.ReadFile(w.LogPath)
		if !strings.Contains(string(log), `--service-namespace "no-such-namespace": no such namespace`) {
			t.Fatalf("log does not explain the exit:\n%s", log)
		}
	} else {
		_ = w.Stop(10 * time.Second)
		t.Fatalf("still running: %v", err)
	}
}

// TestFilesModeCertificateExpiry: --cert-mode=files exports the expiry of the mounted leaf it
// serves (and of its CA only when tls.crt carries it).
func TestFilesModeCertificateExpiry(t *testing.T) {
	ctx := context.Background()
	leaf, err := servedLeaf(inj.Service.Addr(), clientTLS(t, tls.VersionTLS12, 0))
	if err != nil {
		t.Fatal(err)
	}
	err = harness.Poll(ctx, reloadDeadline, func(ctx context.Context) (bool, error) {
		snap, err := inj.Scrape(ctx)
		return err == nil && snap.Get(harness.CertExpirySeries("leaf")) == float64(leaf.NotAfter.Unix()), nil
	})
	if err != nil {
		t.Fatalf("leaf expiry metric never matched the served NotAfter %s: %v", leaf.NotAfter, err)
	}
}
