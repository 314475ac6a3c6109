//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestClientCAWithTheAPIServersAdmissionConfiguration: docs/security.md's setup on a real API
// server. The API server presents the client certificate of its AdmissionConfiguration's
// kubeconfig; a replica with --client-ca set to that certificate's CA injects (failurePolicy Fail,
// so a refused call would refuse the Pod), while a client without the certificate — a Pod that
// reaches the port and forges a review — gets no answer, and one presenting it does.
func TestClientCAWithTheAPIServersAdmissionConfiguration(t *testing.T) {
	ctx := context.Background()
	s := newSelfCert(t, "clientca", 1, admissionv1.Fail, "--client-ca="+inj.Admission.CAFile)
	s.launchAll(t)
	w := s.replicas[0]
	// An L4 proxy on the Service's ClusterIP (kube-proxy's job): TLS, client certificate included,
	// goes through untouched.
	proxy, err := harness.StartProxy(s.svc.Addr(), w.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })

	var last error
	err = harness.Poll(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		p := harness.WorkspacePod("", nil)
		p.GenerateName = "clientca-"
		p.Labels = map[string]string{selfCertLabel: s.ns}
		created, err := inj.DryRunCreate(ctx, s.podNS, p)
		last = err
		return err == nil && created.Annotations[harness.KeyStatus] == "injected", nil
	})
	if err != nil {
		t.Fatalf("the API server's reviews did not get through --client-ca (last error %v, log %s): %v", last, w.LogPath, err)
	}

	bundle, err := inj.CABundle(ctx, s.cfgName)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(bundle)
	pod := harness.WorkspacePod("forged", nil)
	pod.Namespace = s.podNS
	post := func(certs []tls.Certificate) (int, error) {
		c := &http.Client{Timeout: dialTimeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: roots, ServerName: s.serverName(), Certificates: certs, MinVersion: tls.VersionTLS12,
		}}}
		resp, err := c.Post("https://"+w.Addr+"/mutate-v1-pod", "application/json", bytes.NewReader(admissionReview(t, "forged", pod)))
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := post(nil); err == nil {
		t.Errorf("a review without a client certificate was answered (HTTP %d)", code)
	}
	apiserver, err := tls.LoadX509KeyPair(inj.Admission.CertFile, inj.Admission.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if code, err := post([]tls.Certificate{apiserver}); err != nil || code != http.StatusOK {
		t.Errorf("a review with the API server's client certificate: HTTP %d, %v", code, err)
	}
}
