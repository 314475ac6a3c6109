package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const pod = `apiVersion: v1
kind: Pod
metadata:
  name: ws
  namespace: team-a
  labels: {app.kubernetes.io/name: coder-workspace}
spec:
  containers:
  - name: dev
    image: codercom/enterprise-base:ubuntu
`

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestInjectFileWithFlagsEnvAndNamespace(t *testing.T) {
	ns := write(t, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n  annotations: {tilt-lib.platform/version: stable}\n")
	t.Setenv("TILTLIB_DEFAULT_TEMPLATES_VERSION", "v5")
	code, out, errOut := runCmd(t, "", "inject", "-f", write(t, "pod.yaml", pod), "--namespace-file", ns, "--alias", "stable=v2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"name: tilt-lib-v2", "name: tilt-templates-v5", "mountPath: /apps/tilt-lib", "tilt-lib.platform/status: injected"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestInjectStdinPatchOutput(t *testing.T) {
	code, out, errOut := runCmd(t, pod, "inject", "-f", "-", "-o", "patch")
	if code != 0 || !strings.HasPrefix(out, `{"apiVersion":"v1","kind":"Pod","namespace":"team-a","name":"ws","patch":[{"op":"add","path":"/spec/volumes"`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestInjectWarningsGoToStderr(t *testing.T) {
	cms := write(t, "cms.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tilt-lib, namespace: team-a}\n")
	p := strings.Replace(pod, "  labels:", "  annotations: {tilt-lib.platform/version: v3}\n  labels:", 1)
	code, out, errOut := runCmd(t, p, "inject", "-f", "-", "--configmaps-file", cms)
	if code != 0 || !strings.Contains(errOut, `"tilt-lib-v3"`) || strings.Contains(out, "Warning") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestCommandErrors(t *testing.T) {
	cases := []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"inject"}, "", "-f FILE"},
		{[]string{"inject", "-f", "/nonexistent.yaml"}, "", "/nonexistent.yaml"},
		{[]string{"inject", "-f", "-"}, "{{{ not yaml", "stdin"},
		{[]string{"inject", "-f", "-", "-o", "json"}, pod, "unknown output format"},
		{[]string{"inject", "-f", "-", "--alias", "UPPER=v2"}, pod, `alias name "UPPER"`},
		{[]string{"frobnicate"}, "", `unknown command "frobnicate"`},
		{[]string{"serve", "--cert-mode", "files", "--cert-dir", "/nonexistent"}, "", "tls.crt"},
		{[]string{"serve", "--cert-mode", "self", "--service-namespace", ""}, "", "--cert-mode self needs --service-namespace"},
		{[]string{"serve", "--no-such-flag"}, "", "unknown flag"},
	}
	for _, c := range cases {
		code, _, errOut := runCmd(t, c.stdin, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q does not mention %q", c.args, code, errOut, c.want)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	if code, out, _ := runCmd(t, "", "version"); code != 0 || strings.TrimSpace(out) != version {
		t.Errorf("version: %d %q", code, out)
	}
	if code, out, _ := runCmd(t, "", "inject", "--help"); code != 0 || !strings.Contains(out, "--configmaps-file") || !strings.Contains(out, "--default-version") {
		t.Errorf("inject --help: %d %q", code, out)
	}
}

// The README's offline example: one GitOps file serves as input, Namespace and ConfigMaps.
func TestInjectExampleFileAsEverything(t *testing.T) {
	f := filepath.Join("..", "..", "examples", "team-b.yaml")
	code, out, errOut := runCmd(t, "", "inject", "-f", f, "--namespace-file", f, "--configmaps-file", f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"name: tilt-lib-v2", `"configMap":"tilt-lib-v2","version":"2.0.1","source":"namespace"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s", want)
		}
	}
}
