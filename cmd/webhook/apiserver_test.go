package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// writeKubeconfig writes a kubeconfig for server (insecure TLS, a token) to p and returns p.
func writeKubeconfig(t *testing.T, p, server string) string {
	t.Helper()
	kc := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "` + server + `", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// closedPort returns a loopback address nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// noAmbientCredentials clears what restConfig looks at: KUBECONFIG, the in-cluster variables and
// $HOME (a fresh temp dir, returned).
func noAmbientCredentials(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	return home
}

func TestRestConfigPrecedence(t *testing.T) {
	home := noAmbientCredentials(t)
	if _, err := restConfig(""); !errors.Is(err, errNoCredentials) {
		t.Fatalf("nothing configured: err = %v, want errNoCredentials", err)
	}
	writeKubeconfig(t, filepath.Join(home, ".kube", "config"), "https://127.0.0.1:1001")
	envFile := writeKubeconfig(t, filepath.Join(t.TempDir(), "env"), "https://127.0.0.1:1002")
	flagFile := writeKubeconfig(t, filepath.Join(t.TempDir(), "flag"), "https://127.0.0.1:1003")
	steps := []struct {
		name, kubeconfig, env, want string
	}{
		{"~/.kube/config", "", "", "https://127.0.0.1:1001"},
		{"KUBECONFIG beats ~/.kube/config", "", envFile, "https://127.0.0.1:1002"},
		{"--kubeconfig beats KUBECONFIG", flagFile, envFile, "https://127.0.0.1:1003"},
	}
	for _, s := range steps {
		t.Setenv("KUBECONFIG", s.env)
		rc, err := restConfig(s.kubeconfig)
		if err != nil || rc.Host != s.want {
			t.Fatalf("%s: host %v, err %v; want %s", s.name, rc, err, s.want)
		}
		if rc.QPS != -1 {
			t.Errorf("%s: QPS %v, want client-side rate limiting off (-1)", s.name, rc.QPS)
		}
	}
}

func TestRestConfigErrorsSayWhatToSet(t *testing.T) {
	noAmbientCredentials(t)
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := restConfig(missing); err == nil || !strings.Contains(err.Error(), "--kubeconfig "+missing) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("--kubeconfig missing: %v", err)
	}
	t.Setenv("KUBECONFIG", missing)
	if _, err := restConfig(""); !errors.Is(err, errNoCredentials) || !strings.Contains(err.Error(), "KUBECONFIG="+missing) {
		t.Errorf("KUBECONFIG missing: %v", err)
	}
}

func TestCheckAPIServer(t *testing.T) {
	version := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/version" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"major":"1","minor":"37","gitVersion":"v1.37.2"}`))
	}))
	defer version.Close()
	unauthorized := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`))
	}))
	defer unauthorized.Close()
	release := make(chan struct{})
	silent := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		// Answers nothing until the test ends. Not on r.Context().Done(): returning writes an empty
		// 200, which a client that had not given up yet (a loaded machine, CI) read as an answer.
		<-release
	}))
	defer silent.Close()
	defer close(release)
	closed := "https://" + closedPort(t)

	cases := []struct {
		name, host string
		timeout    time.Duration
		want       []string
	}{
		{"reachable", version.URL, time.Second, nil},
		{"nothing listening", closed, time.Second, []string{"cannot reach the API server at " + closed + ": ", "connection refused", "; check --kubeconfig and the network"}},
		{"credentials rejected", unauthorized.URL, time.Second, []string{"the API server at " + unauthorized.URL + " rejected the credentials", "check --kubeconfig or the service account token"}},
		{"no answer within the timeout", silent.URL, 300 * time.Millisecond, []string{"cannot reach the API server at " + silent.URL + ": no answer within 300ms"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc := &rest.Config{Host: c.host, BearerToken: "x", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
			start := time.Now()
			v, err := checkAPIServer(context.Background(), rc, c.timeout)
			if c.want == nil {
				if err != nil || v != "v1.37.2" {
					t.Fatalf("version %q, err %v", v, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; version %q", v)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if d := time.Since(start); d > c.timeout+5*time.Second {
				t.Errorf("took %s with a %s budget", d, c.timeout)
			}
		})
	}
}
