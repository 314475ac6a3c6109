package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestREADMEInstallFitsNextToTheDemo: the README's `helm install` run against the demo's cluster
// must not meet an object of the demo's: helm refuses to adopt one it did not create. The install
// line is read from the README and rendered with the real helm; its MutatingWebhookConfiguration
// must not be named like the demo's registration, and its namespace is not the demo's injector
// namespace (the demo's other objects: Namespaces, a Service and the examples, all in there or in team-*).
func TestREADMEInstallFitsNextToTheDemo(t *testing.T) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		t.Skip("KUBEBUILDER_ASSETS unset: run `make unit` (it builds helm with hack/tools.sh)")
	}
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^helm install (\S+) (\S+) -n (\S+) --create-namespace$`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no `helm install <release> <chart> -n <namespace> --create-namespace` line")
	}
	release, chart, ns := string(m[1]), filepath.Join(root, string(m[2])), string(m[3])
	if ns == "tilt-lib-injector" { // harness.Options' default namespace, which the demo uses
		t.Errorf("the README installs into %s, the demo's own injector namespace", ns)
	}
	cmd := exec.Command(filepath.Join(dir, "helm"), "template", release, chart, "-n", ns)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr.String())
	}
	var webhooks int
	for _, doc := range strings.Split(string(out), "\n---") {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name, Namespace string
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		if obj.Kind == "MutatingWebhookConfiguration" {
			webhooks++
		}
		if obj.Kind == "MutatingWebhookConfiguration" && obj.Metadata.Name == registration {
			t.Errorf("the README's install makes MutatingWebhookConfiguration %s, the demo's registration: helm install fails on it", obj.Metadata.Name)
		}
	}
	if webhooks != 1 {
		t.Errorf("the chart renders %d MutatingWebhookConfigurations, want 1", webhooks)
	}
}
