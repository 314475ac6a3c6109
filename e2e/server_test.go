//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// dialTimeout bounds one TCP connect + TLS handshake to a webhook on this machine.
const dialTimeout = 5 * time.Second

// serverName is the name the API server verifies the webhook's certificate for: <svc>.<ns>.svc.
func serverName() string {
	return harness.ServiceDNSNames(inj.Service.Name, inj.Service.Namespace)[0]
}

// caPool trusts the suite's CA, as the API server does through the registration's caBundle.
func caPool(t *testing.T) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(inj.Cert.CABundle) {
		t.Fatal("the suite's CA bundle holds no certificate")
	}
	return pool
}

// clientTLS is a client config that verifies the webhook like the API server does, limited to
// TLS versions minVersion..maxVersion and offering the ALPN protocols alpn.
func clientTLS(t *testing.T, minVersion, maxVersion uint16, alpn ...string) *tls.Config {
	t.Helper()
	return &tls.Config{
		RootCAs:    caPool(t),
		ServerName: serverName(),
		MinVersion: minVersion,
		MaxVersion: maxVersion,
		NextProtos: alpn,
	}
}

// dialTLS connects to addr and completes the handshake.
func dialTLS(addr string, cfg *tls.Config) (*tls.Conn, error) {
	return tls.DialWithDialer(&net.Dialer{Timeout: dialTimeout}, "tcp", addr, cfg)
}

// handshake connects to addr, completes the handshake, closes, and returns what was negotiated.
func handshake(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	conn, err := dialTLS(addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.ConnectionState(), nil
}

// extraWebhook prepares a second `webhook serve` process (see Injector.ExtraWebhook) and stops
// it, by PID, when the test ends. It is not started: callers Start (wait for ready) or Launch.
func extraWebhook(t *testing.T, name, kubeconfig string, extra ...string) *harness.Webhook {
	t.Helper()
	w, err := inj.ExtraWebhook(name, kubeconfig, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !w.Running() {
			return // never started, or already exited (the test asserted how)
		}
		if err := w.Stop(30 * time.Second); err != nil {
			t.Errorf("stopping the %s webhook: %v", name, err)
		}
	})
	return w
}

// startExtraWebhook starts an extra webhook and waits until it is ready.
func startExtraWebhook(t *testing.T, name string, extra ...string) *harness.Webhook {
	t.Helper()
	w := extraWebhook(t, name, "", extra...)
	start := time.Now()
	if err := w.Start(context.Background(), time.Minute); err != nil {
		t.Fatalf("starting the %s webhook: %v", name, err)
	}
	t.Logf("%s webhook (pid %d, %s) ready after %s", name, w.PID(), w.Addr, time.Since(start).Round(time.Millisecond))
	return w
}
