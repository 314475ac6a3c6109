package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/platform-tools/tilt-lib-injector/pkg/certs"
	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
)

// runMainEnv makes the test binary act as the webhook binary: startup failures are checked on a
// real process's stderr, which also catches what libraries print there directly.
const runMainEnv = "WEBHOOK_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// webhookProcess runs `webhook args...` as a process with exactly env (plus runMainEnv) and
// returns its exit code, stdout and stderr.
func webhookProcess(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	// A process that got past the checks would serve forever: the deadline turns that into a failure.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append([]string{runMainEnv + "=1"}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// certDir holds a valid tls.crt and tls.key (files mode loads them before anything else).
func certDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ca, err := certs.NewCA(rand.Reader, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := certs.NewLeaf(rand.Reader, ca, time.Now(), time.Hour, certs.DNSNames("tilt-lib-injector", "test"))
	if err != nil {
		t.Fatal(err)
	}
	for f, b := range map[string][]byte{"tls.crt": leaf.CertPEM, "tls.key": leaf.KeyPEM} {
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Each startup failure of serve is one line on stderr: what is wrong and what to do, without a
// logged stack trace before it or client-go's obsolete KUBERNETES_MASTER advice.
func TestServeStartupFailuresAreOneLine(t *testing.T) {
	home := t.TempDir()
	closed := "https://" + closedPort(t)
	unreachable := writeKubeconfig(t, filepath.Join(t.TempDir(), "kubeconfig"), closed)
	missing := filepath.Join(t.TempDir(), "missing")
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no credentials at all", nil, nil,
			"webhook serve: no API server credentials: set --kubeconfig or KUBECONFIG, or run in a Pod with a service account"},
		{"API server unreachable", nil, []string{"--kubeconfig", unreachable},
			"webhook serve: cannot reach the API server at " + closed + ": "},
		{"KUBECONFIG names no file", []string{"KUBECONFIG=" + missing}, nil,
			"webhook serve: KUBECONFIG=" + missing + ": no kubeconfig found there; no API server credentials: set --kubeconfig"},
		{"--kubeconfig names no file", nil, []string{"--kubeconfig", missing},
			"webhook serve: --kubeconfig " + missing + ": "},
		{"no certificate", nil, []string{"--cert-dir", t.TempDir()}, "webhook serve: serving certificate: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"serve", "--cert-mode", "files", "--cert-dir", certDir(t), "--bind-address", "127.0.0.1", "--port", "1",
				"--metrics-bind-address", "0", "--health-probe-bind-address", "0"}, c.args...)
			code, stdout, stderr := webhookProcess(t, append([]string{"HOME=" + home}, c.env...), args...)
			if code != 1 || stdout != "" {
				t.Errorf("exit %d, stdout %q; want 1 and nothing", code, stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, c.want) {
				t.Errorf("stderr:\n%s\nwant one line starting %q", stderr, c.want)
			}
			for _, bad := range []string{"stacktrace", "goroutine", ".go:", "KUBERNETES_MASTER"} {
				if strings.Contains(stderr, bad) {
					t.Errorf("stderr contains %q:\n%s", bad, stderr)
				}
			}
		})
	}
}

// Error logs carry no stack trace: the message names the cause, and a trace made the one useful
// line of a failed start 1,268 characters long.
func TestLoggerOmitsStackTracesOnErrors(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(tlconfig.Default(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Error(errors.New("boom"), "cache failed", "namespace", "team-a")
	if out := buf.String(); !strings.Contains(out, `"error":"boom"`) || strings.Contains(out, "stacktrace") || strings.Count(out, "\n") != 1 {
		t.Fatalf("error log:\n%s", out)
	}
}
