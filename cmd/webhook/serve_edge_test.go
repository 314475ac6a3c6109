package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"

	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
)

// serve refuses to start with an unusable --client-ca, before contacting the API server: the
// flag is wired into the TLS options, not parsed and ignored.
func TestServeClientCAErrors(t *testing.T) {
	for _, c := range []struct{ clientCA, want string }{
		{filepath.Join(t.TempDir(), "missing.crt"), "no such file"},
		{write(t, "ca.crt", "not a certificate\n"), "no PEM certificate found"},
	} {
		cfg := tlconfig.Default()
		cfg.CertMode, cfg.CertDir, cfg.ClientCA = tlconfig.CertModeFiles, certDir(t), c.clientCA
		cs, err := newCertSetup(cfg, logr.Discard())
		if err != nil {
			t.Fatal(err)
		}
		// runServer, not run: the process-wide signal handler can be set up only once. The
		// API server address is never dialled: the CA is loaded before the manager exists.
		err = runServer(context.Background(), cfg, &rest.Config{Host: "https://127.0.0.1:1"}, cs, logr.Discard())
		if err == nil || !strings.Contains(err.Error(), "--client-ca") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--client-ca %s: err = %v", c.clientCA, err)
		}
	}
}
