package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-tools/tilt-lib-injector/pkg/explain"
	tlinject "github.com/platform-tools/tilt-lib-injector/pkg/inject"
)

const explainNS = "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a, annotations: {tilt-lib.platform/version: stable}}\n"

// explainCMs holds tilt-lib-v2 in default only, unless in team-a too.
func explainCMs(inTeamA bool) string {
	s := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tilt-lib-v2, namespace: default, labels: {version: 2.0.1}}\n---\n" +
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tilt-templates, namespace: team-a}\n"
	if inTeamA {
		s += "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: tilt-lib-v2, namespace: team-a, labels: {version: 2.0.1}}\n"
	}
	return s
}

// Each exit code is forced by a case: 0 (no ×), 3 (a ×), 4 (only ‼ with --strict), 0 (‼ without).
func TestExplainOfflineExitCodes(t *testing.T) {
	ns := write(t, "ns.yaml", explainNS)
	override := strings.Replace(pod, "labels: {app.kubernetes.io/name: coder-workspace}",
		"labels: {app.kubernetes.io/name: coder-workspace}\n  annotations: {tilt-lib.platform/version: v9}", 1)
	forbid := strings.Replace(explainNS, "annotations: {", `annotations: {tilt-lib.platform/allow-pod-override: "false", `, 1)
	tests := []struct {
		name         string
		pod, ns, cms string
		strict       bool
		want         int
		wantOut      string
	}{
		{"clean", pod, ns, explainCMs(true), false, 0, "tilt-lib version          √       namespace team-a pins stable → alias stable = v2 (2.0.1)"},
		{"configmap only elsewhere", pod, ns, explainCMs(false), false, 3, "tilt-lib-v2 not in team-a (it exists in: default)"},
		{"override ignored, strict", override, write(t, "forbid.yaml", forbid), explainCMs(true), true, 4, "override                  ‼"},
		{"override ignored, not strict", override, write(t, "forbid2.yaml", forbid), explainCMs(true), false, 0, "override                  ‼"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"explain", "-f", write(t, "pod.yaml", tt.pod), "--namespace-file", tt.ns,
				"--configmaps-file", write(t, "cms.yaml", tt.cms), "--alias", "stable=v2"}
			if tt.strict {
				args = append(args, "--strict")
			}
			code, out, errOut := runCmd(t, "", args...)
			if code != tt.want || !strings.Contains(out, tt.wantOut) {
				t.Errorf("exit %d (want %d), stderr %q, out:\n%s", code, tt.want, errOut, out)
			}
			if errOut != "" {
				t.Errorf("stderr on a report: %q", errOut)
			}
		})
	}
}

func TestExplainJSON(t *testing.T) {
	code, out, errOut := runCmd(t, "", "explain", "-o", "json", "-f", write(t, "pod.yaml", pod),
		"--namespace-file", write(t, "ns.yaml", explainNS), "--configmaps-file", write(t, "cms.yaml", explainCMs(false)),
		"--versions-file", write(t, "versions.yaml", "aliases: {stable: v2}\n"))
	var o explain.Output
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatalf("exit %d, %s: %v\n%s", code, errOut, err, out)
	}
	if code != 3 || o.ExitCode != 3 || len(o.Reports) != 1 || o.Reports[0].Decision.Components[0].ConfigMap != "tilt-lib-v2" {
		t.Errorf("exit %d, output %+v", code, o)
	}
}

// Usage errors exit 1 with one line naming the problem.
func TestExplainUsage(t *testing.T) {
	p := write(t, "pod.yaml", pod)
	tests := []struct {
		args []string
		want string
	}{
		{nil, "what to explain: pod/NAME"},
		{[]string{"widget/x"}, `unknown kind "widget"`},
		{[]string{"pod"}, `"pod": want KIND/NAME`},
		{[]string{"pod/a", "pod/b"}, `unexpected argument "pod/b"`},
		{[]string{"--new"}, "--new needs -n NAMESPACE"},
		{[]string{"--new", "-n", "a", "pod/x"}, "--new explains a hypothetical Pod"},
		{[]string{"pod/x", "-l", "a=b"}, "-l and --annotation describe the --new Pod"},
		{[]string{"-f", p, "pod/x"}, "-f explains the files' objects offline"},
		{[]string{"-f", p, "--server"}, "--server and --from-flags read the cluster"},
		{[]string{"pod/x", "--configmaps-file", p}, "are for -f (offline)"},
		{[]string{"pod/x", "--versions-file", p}, "--versions-file is for -f or --from-flags"},
		{[]string{"-f", p, "-o", "yaml"}, `-o "yaml": want table or json`},
		{[]string{"-f", filepath.Join(t.TempDir(), "missing.yaml")}, "missing.yaml"},
	}
	for _, tt := range tests {
		code, out, errOut := runCmd(t, "", append([]string{"explain"}, tt.args...)...)
		if code != 1 || !strings.HasPrefix(errOut, "webhook explain: ") || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want 1 and %q", tt.args, code, errOut, out, tt.want)
		}
	}
}

// A missing permission exits 1 naming the verb and the resource.
func TestExplainForbidden(t *testing.T) {
	noAmbientCredentials(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,` +
			`"message":"mutatingwebhookconfigurations.admissionregistration.k8s.io \"tilt-lib-injector\" is forbidden: User \"dev\" cannot get resource"}`))
	}))
	defer srv.Close()
	kc := writeKubeconfig(t, filepath.Join(t.TempDir(), "kubeconfig"), srv.URL)
	code, _, errOut := runCmd(t, "", "explain", "--kubeconfig", kc, "pod/ws", "-n", "team-a")
	if code != 1 || !strings.Contains(errOut, "forbidden: cannot get mutatingwebhookconfigurations.admissionregistration.k8s.io tilt-lib-injector") ||
		!strings.Contains(errOut, "explainRole") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// Deployed args are parsed with serve's own flag set: a flag serve knows acts, one it does not
// is refused, env comes from the container.
func TestServeConfigOfDeployedArgs(t *testing.T) {
	env := func(k string) (string, bool) {
		if k == "TILTLIB_DEFAULT_TEMPLATES_VERSION" {
			return "v5", true
		}
		return "", false
	}
	cfg, err := serveConfig([]string{"--default-version=stable", "--alias=stable=v2", "--service-namespace=x"}, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DefaultVersion != "stable" || cfg.Aliases["stable"] != "v2" || cfg.DefaultTemplatesVersion != "v5" {
		t.Errorf("config %+v", cfg)
	}
	if _, err := serveConfig([]string{"--no-such-flag"}, env, nil); err == nil {
		t.Error("an unknown flag was accepted")
	}
}

// -f keeps inject's input bounds: at the per-file bound a Pod is read, one byte over is refused
// naming the bound.
func TestExplainInputBound(t *testing.T) {
	pad := func(n int) string { // a YAML comment fills the file up to n bytes
		body := pod + "#"
		return body + strings.Repeat("x", n-len(body)-1) + "\n"
	}
	code, _, errOut := runCmd(t, pad(tlinject.MaxFileBytes), "explain", "-f", "-")
	if code != 0 && code != 3 {
		t.Fatalf("at the bound: exit %d, %s", code, errOut)
	}
	code, _, errOut = runCmd(t, pad(tlinject.MaxFileBytes+1), "explain", "-f", "-")
	if code != 1 || !strings.Contains(errOut, "more than 16777216 bytes (the per-file limit)") {
		t.Errorf("over the bound: exit %d, %q", code, errOut)
	}
}
