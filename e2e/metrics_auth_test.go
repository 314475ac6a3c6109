//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestHelmChartSecureMetrics: with metrics.secure the binary, run as the chart's ServiceAccount with
// exactly the chart's RBAC, serves /metrics over HTTPS only to tokens the real API server
// authenticates and authorizes: none gets 401, an unknown one 401, a ServiceAccount without the
// grant 403, one bound to the chart's metrics-reader ClusterRole (metrics.readers) the metrics.
func TestHelmChartSecureMetrics(t *testing.T) {
	const (
		release = "chart-metrics"
		ns      = "chart-metrics"
		name    = release + "-tilt-lib-injector"
		label   = "e2e.tilt-lib/chart-metrics" // selects no Pod: this release never injects
	)
	ctx := context.Background()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	port, err := harness.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, sa := range []string{"scraper", "stranger"} {
		if _, err := inj.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		if _, err := inj.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	helmCmd(t, "install", release, filepath.Join(root, "charts", "tilt-lib-injector"), "-n", ns,
		"--set", "webhook.port="+strconv.Itoa(port), "--set", "webhook.servicePort="+strconv.Itoa(port),
		"--set", "workspaceSelector.matchLabels.app\\.kubernetes\\.io/name=null",
		"--set", "workspaceSelector.matchLabels."+strings.ReplaceAll(label, ".", "\\.")+"=yes",
		"--set", "metrics.secure=true",
		"--set-json", `metrics.readers=[{"kind":"ServiceAccount","name":"scraper","namespace":"`+ns+`"}]`)
	t.Cleanup(func() {
		_ = exec.Command(filepath.Join(inj.AssetsDir, "helm"), "uninstall", release, "-n", ns, "--kubeconfig", inj.Kubeconfig).Run()
	})

	w, _ := releaseReplica(t, ctx, saKubeconfig(t, ctx, ns, name), ns, name)
	if err := w.Start(ctx, 60*time.Second); err != nil {
		t.Fatalf("the chart's args with metrics.secure and the chart's RBAC: %v", err)
	}
	t.Cleanup(func() { _ = w.Stop(30 * time.Second) })
	// Readiness does not cover the metrics listener, which opens once its self-signed key is made.
	err = harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", w.MetricsAddr)
		if err == nil {
			c.Close()
		}
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("metrics port %s never opened (log %s): %v", w.MetricsAddr, w.LogPath, err)
	}

	// The metrics certificate is self-signed (controller-runtime's): the scraper skips
	// verification, as the chart's ServiceMonitor does; what TLS protects is the token.
	client := &http.Client{Timeout: dialTimeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	scrape := func(token string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+w.MetricsAddr+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("scraping %s: %v", w.MetricsAddr, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, c := range []struct {
		who   string
		token string
		want  int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"a made-up token", "not-a-token", http.StatusUnauthorized},
		{"a ServiceAccount without the grant", saToken(t, ctx, ns, "stranger"), http.StatusForbidden},
		{"the injector's own ServiceAccount (no get on /metrics)", saToken(t, ctx, ns, name), http.StatusForbidden},
		{"a ServiceAccount bound to the metrics-reader ClusterRole", saToken(t, ctx, ns, "scraper"), http.StatusOK},
	} {
		code, body := scrape(c.token)
		if code != c.want {
			t.Errorf("%s: HTTP %d, want %d (log %s)\n%.300s", c.who, code, c.want, w.LogPath, body)
		}
		if served := strings.Contains(body, "tiltlib_build_info"); served != (c.want == http.StatusOK) {
			t.Errorf("%s: metrics in the body: %v", c.who, served)
		}
	}
	// Plain HTTP gets no metrics either.
	if resp, err := client.Get("http://" + w.MetricsAddr + "/metrics"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "tiltlib_build_info") {
			t.Error("plain HTTP served the metrics")
		}
	}
}
