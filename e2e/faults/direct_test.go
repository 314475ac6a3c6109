//go:build e2e && linux

package faults

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// answer is what one replica said to one review sent to it directly (not through the API server).
type answer struct {
	// HTTP is the status code, 0 when the call itself failed (err says why).
	HTTP int
	err  error
	// Review is the decoded AdmissionReview of a 200 answer (nil otherwise).
	Review *admissionv1.AdmissionReview
	// Pod is the workspace Pod with the answer's patch applied (allowed answers only).
	Pod *corev1.Pod
}

// decision reports whether the answer is an AdmissionReview: allowed or denied, it decided the
// Pod's fate. A failed call (no answer, or an HTTP error status) is not a decision: the API server
// applies failurePolicy to it.
func (a answer) decision() bool {
	return a.HTTP == http.StatusOK && a.Review != nil && a.Review.Response != nil
}

// directClient posts reviews to one replica's address with the API server's trust: the serving
// certificate's CA and the Service's DNS name.
func (c *cluster) directClient() (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.cert.CABundle) {
		return nil, fmt.Errorf("the serving CA does not parse")
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{
		RootCAs: pool, ServerName: harness.ServiceDNSNames(c.svc.Name, c.svc.Namespace)[0], MinVersion: tls.VersionTLS12,
	}}}, nil
}

// review sends a dry-run review of a workspace Pod in namespace to addr (dry-run: the replica
// moves no metric and writes no Event for it).
func review(ctx context.Context, hc *http.Client, addr, namespace string) answer {
	pod := harness.WorkspacePod("direct", nil)
	body, err := reviewtest.Review("admission.k8s.io/v1", namespace, pod, true)
	if err != nil {
		return answer{err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+addr+harness.MutatePath, bytes.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	a := answer{HTTP: resp.StatusCode, err: err}
	if err != nil || resp.StatusCode != http.StatusOK {
		return a
	}
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &ar); err != nil {
		a.err = fmt.Errorf("HTTP 200 but not an AdmissionReview: %w", err)
		return a
	}
	a.Review = &ar
	if ar.Response == nil || !ar.Response.Allowed {
		return a
	}
	raw, err := json.Marshal(pod)
	if err != nil {
		a.err = err
		return a
	}
	if len(ar.Response.Patch) > 0 {
		patch, err := jsonpatch.DecodePatch(ar.Response.Patch)
		if err != nil {
			a.err = fmt.Errorf("patch: %w", err)
			return a
		}
		if raw, err = patch.Apply(raw); err != nil {
			a.err = fmt.Errorf("applying the patch: %w", err)
			return a
		}
	}
	var out corev1.Pod
	if err := json.Unmarshal(raw, &out); err != nil {
		a.err = err
		return a
	}
	a.Pod = &out
	return a
}
