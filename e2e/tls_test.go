//go:build e2e

package e2e

import (
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
)

// TestTLSMinimumVersion: the admission server refuses clients that cannot speak TLS 1.2 (the
// --tls-min-version default) and serves 1.2 and 1.3; a server started with
// --tls-min-version=1.3 refuses a 1.2 client too.
func TestTLSMinimumVersion(t *testing.T) {
	t.Run("default 1.2", func(t *testing.T) {
		addr := inj.Service.Addr()
		assertRefused(t, addr, tls.VersionTLS10, tls.VersionTLS11)
		assertServed(t, addr, tls.VersionTLS12)
		assertServed(t, addr, tls.VersionTLS13)
	})
	t.Run("--tls-min-version=1.3", func(t *testing.T) {
		w := startExtraWebhook(t, "tls13", "--tls-min-version=1.3")
		assertRefused(t, w.Addr, tls.VersionTLS10, tls.VersionTLS12)
		assertServed(t, w.Addr, tls.VersionTLS13)
	})
}

// TestHTTP2OffByDefault: a client that prefers h2 (as Go's and most HTTP clients do) is answered
// with http/1.1 — HTTP/2 is off unless --enable-http2. The control: a server started with
// --enable-http2 does pick h2 for the same client, so the check can tell the two apart.
func TestHTTP2OffByDefault(t *testing.T) {
	alpn := []string{"h2", "http/1.1"}
	t.Run("default", func(t *testing.T) {
		st, err := handshake(inj.Service.Addr(), clientTLS(t, tls.VersionTLS12, 0, alpn...))
		if err != nil {
			t.Fatalf("handshake offering %q: %v", alpn, err)
		}
		if st.NegotiatedProtocol != "http/1.1" {
			t.Errorf("negotiated %q offering %q, want http/1.1 (HTTP/2 must be off by default)", st.NegotiatedProtocol, alpn)
		}
	})
	t.Run("--enable-http2", func(t *testing.T) {
		w := startExtraWebhook(t, "http2", "--enable-http2")
		st, err := handshake(w.Addr, clientTLS(t, tls.VersionTLS12, 0, alpn...))
		if err != nil {
			t.Fatalf("handshake offering %q: %v", alpn, err)
		}
		if st.NegotiatedProtocol != "h2" {
			t.Errorf("negotiated %q with --enable-http2, want h2", st.NegotiatedProtocol)
		}
	})
}

// assertServed checks a client limited to exactly version completes a verified handshake at it.
func assertServed(t *testing.T, addr string, version uint16) {
	t.Helper()
	st, err := handshake(addr, clientTLS(t, version, version))
	switch {
	case err != nil:
		t.Errorf("%s client: handshake with %s failed: %v", tls.VersionName(version), addr, err)
	case st.Version != version:
		t.Errorf("%s client: negotiated %s", tls.VersionName(version), tls.VersionName(st.Version))
	}
}

// assertRefused checks the server ends the handshake of a client limited to minVersion..maxVersion
// with a protocol_version alert: the refusal is the server's, not a client-side limitation.
func assertRefused(t *testing.T, addr string, minVersion, maxVersion uint16) {
	t.Helper()
	client := tls.VersionName(maxVersion) + "-max client"
	st, err := handshake(addr, clientTLS(t, minVersion, maxVersion))
	if err == nil {
		t.Errorf("%s: handshake with %s succeeded at %s", client, addr, tls.VersionName(st.Version))
		return
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || !strings.Contains(err.Error(), "protocol version not supported") {
		t.Errorf("%s: want the server's protocol_version alert, got %v", client, err)
		return
	}
	t.Logf("%s refused: %v", client, err)
}
