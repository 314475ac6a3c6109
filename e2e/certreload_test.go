//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// reloadDeadline bounds how long the running server may take to serve a certificate renewed in
// --cert-dir (inotify, with controller-runtime's 10s re-read as the fallback).
const reloadDeadline = 30 * time.Second

// freshClientLabel is added to the registration's objectSelector while the test proves that a
// new API server connection accepts the renewed certificate.
const freshClientLabel = "e2e.tilt-lib.platform/fresh-client"

// TestCertificateHotReload (--cert-mode=files): cert-manager renews the serving certificate in
// the mounted directory (same names, same CA, new key and serial). The running process serves
// the new one within seconds, without a restart, and the API server keeps calling it.
func TestCertificateHotReload(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, "reload", nil, "tilt-lib", "tilt-templates")
	settle(t, ns, libDefault, templatesDefault)
	pid := inj.Webhook.PID()
	addr := inj.Service.Addr()

	old, err := servedLeaf(addr, clientTLS(t, tls.VersionTLS12, 0))
	if err != nil {
		t.Fatalf("before the renewal: %v", err)
	}
	renewed, err := inj.Cert.Reissue()
	if err != nil {
		t.Fatal(err)
	}
	if renewed.SerialNumber.Cmp(old.SerialNumber) == 0 {
		t.Fatalf("renewed certificate reuses serial %s", old.SerialNumber)
	}

	start := time.Now()
	var last string
	err = harness.Poll(ctx, reloadDeadline, func(context.Context) (bool, error) {
		leaf, err := servedLeaf(addr, clientTLS(t, tls.VersionTLS12, 0))
		if err != nil {
			last = err.Error() // a handshake may fail while the files are being swapped; retry
			return false, nil
		}
		last = "serial " + leaf.SerialNumber.String()
		return leaf.SerialNumber.Cmp(renewed.SerialNumber) == 0, nil
	})
	if err != nil {
		t.Fatalf("server never served the renewed certificate (serial %s; last: %s): %v", renewed.SerialNumber, last, err)
	}
	t.Logf("renewed certificate served %s after the rename", time.Since(start).Round(time.Millisecond))
	if inj.Webhook.PID() != pid || !inj.Webhook.Running() {
		t.Fatalf("the webhook restarted (pid %d -> %d); the reload must happen in place", pid, inj.Webhook.PID())
	}

	// The API server's own check: the served certificate against the registration's caBundle, for
	// <svc>.<ns>.svc.
	reg, err := inj.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, harness.WebhookConfigName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(reg.Webhooks[0].ClientConfig.CABundle) {
		t.Fatal("the registration's caBundle holds no certificate")
	}
	if _, err := renewed.Verify(x509.VerifyOptions{DNSName: serverName(), Roots: roots,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("renewed certificate does not verify against the registered caBundle: %v", err)
	}

	// The API server keeps the keep-alive connection it opened with the old certificate; a Pod
	// created now could be reviewed over it and prove nothing about the new one. Make it dial
	// again: its webhook clients are cached by client config, so a caBundle that differs only
	// by a trailing newline gets a new client and a new connection. Narrowing the objectSelector
	// in the same update makes the switch observable: once a probe Pod without the label passes
	// un-mutated, the new client is the one in use.
	before := scrape(t)
	freshClient(t, ctx)
	pod := harness.WorkspacePod("ws-after-renewal", nil)
	pod.Labels[freshClientLabel] = "true"
	stored, _ := createPod(t, ns, pod)
	assertInjected(t, stored, libDefault, templatesDefault)
	expectDelta(t, before, injected(libDefault, templatesDefault, "none"))
}

// freshClient re-registers the webhook with a byte-different (equivalent) caBundle and an
// objectSelector that also requires freshClientLabel, waits until the API server applies it,
// and restores the registration when the test ends.
func freshClient(t *testing.T, ctx context.Context) {
	t.Helper()
	api := inj.Client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	saved, err := api.Get(ctx, harness.WebhookConfigName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cur, err := api.Get(ctx, harness.WebhookConfigName, metav1.GetOptions{})
		if err != nil {
			t.Errorf("reading the registration to restore it: %v", err)
			return
		}
		cur.Webhooks = saved.Webhooks
		if _, err := api.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			t.Errorf("restoring the registration: %v", err)
			return
		}
		if err := inj.WaitInjecting(ctx, policyDeadline); err != nil {
			t.Errorf("after restoring the registration: %v", err)
		}
	})
	changed := saved.DeepCopy()
	for i := range changed.Webhooks {
		cc := &changed.Webhooks[i].ClientConfig
		cc.CABundle = append(bytes.TrimRight(slices.Clone(cc.CABundle), "\n"), '\n', '\n')
		if changed.Webhooks[i].ObjectSelector == nil {
			changed.Webhooks[i].ObjectSelector = &metav1.LabelSelector{}
		}
		sel := changed.Webhooks[i].ObjectSelector
		if sel.MatchLabels == nil {
			sel.MatchLabels = map[string]string{}
		}
		sel.MatchLabels[freshClientLabel] = "true"
	}
	if _, err := api.Update(ctx, changed, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("re-registering with a new client config: %v", err)
	}
	if err := inj.WaitPassing(ctx, policyDeadline); err != nil {
		t.Fatalf("the API server never applied the new registration: %v", err)
	}
}

// servedLeaf completes a verified handshake with addr and returns the certificate it served.
func servedLeaf(addr string, cfg *tls.Config) (*x509.Certificate, error) {
	st, err := handshake(addr, cfg)
	if err != nil {
		return nil, err
	}
	return st.PeerCertificates[0], nil
}
