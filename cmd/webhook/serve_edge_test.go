package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"

	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
)

// serve refuses to start with an unusable --client-ca, before contacting the API server: the
// flag is wired into the TLS options, not parsed and ignored.
func TestServeClientCAErrors(t *testing.T) {
	certDir := t.TempDir()
	for _, f := range []string{"tls.crt", "tls.key"} {
		if err := os.WriteFile(filepath.Join(certDir, f), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A kubeconfig that parses; nothing is ever dialled.
	kubeconfig := write(t, "kubeconfig", `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`)
	for _, c := range []struct{ clientCA, want string }{
		{filepath.Join(t.TempDir(), "missing.crt"), "no such file"},
		{write(t, "ca.crt", "not a certificate\n"), "no PEM certificate found"},
	} {
		cfg := tlconfig.Default()
		cfg.CertDir, cfg.Kubeconfig, cfg.ClientCA = certDir, kubeconfig, c.clientCA
		// runServer, not run: the process-wide signal handler can be set up only once.
		err := runServer(context.Background(), cfg, logr.Discard())
		if err == nil || !strings.Contains(err.Error(), "--client-ca") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--client-ca %s: err = %v", c.clientCA, err)
		}
	}
}
