package charttest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/versions"
)

// readmeBlock returns the first fenced block of lang after heading in the README.
func readmeBlock(t *testing.T, heading, lang string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no %q section", heading)
	}
	_, block, ok := strings.Cut(section, "```"+lang+"\n")
	if !ok {
		t.Fatalf("README.md's %q section has no ```%s block", heading, lang)
	}
	block, _, _ = strings.Cut(block, "```")
	// The block sits in a numbered list: drop the list's indentation.
	lines := strings.Split(block, "\n")
	indent := len(lines[0]) - len(strings.TrimLeft(lines[0], " "))
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, strings.Repeat(" ", indent))
	}
	return strings.Join(lines, "\n")
}

// TestREADMERolloutValues: the values of the README's "Roll out a new version" walkthrough, copied
// as they are, pass the chart's schema with the real helm and render a versions document the
// binary's own parser accepts, with the rollout the README describes (10 % of stable's tilt-lib to
// v3).
func TestREADMERolloutValues(t *testing.T) {
	values := filepath.Join(t.TempDir(), "rollout.yaml")
	if err := os.WriteFile(values, []byte(readmeBlock(t, "## Roll out a new version", "yaml")), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := template(t, "-f", values)
	if err != nil {
		t.Fatalf("helm template with the README's rollout values: %v", err)
	}
	cm := get[corev1.ConfigMap](t, parse(t, out), "ConfigMap/"+fullname(releaseName)+"-versions")
	snap, err := versions.Build([]byte(cm.Data[versions.Key]), mutate.DefaultOptions())
	if err != nil {
		t.Fatalf("the README's rollout renders a document the binary refuses: %v\n%s", err, cm.Data[versions.Key])
	}
	if len(snap.Rollouts) != 1 {
		t.Fatalf("the README's document has %d rollouts, want 1", len(snap.Rollouts))
	}
	r := snap.Rollouts[0]
	if r.From != "stable" || r.To != "v3" || r.Percent.Basis != 1000 || snap.Aliases["stable"] != "v2" {
		t.Errorf("the README's rollout is %+v with stable=%s, want 10 %% of stable (v2) to v3", r, snap.Aliases["stable"])
	}
}
