package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stablePod is a workspace Pod asking for the alias stable.
const stablePod = `apiVersion: v1
kind: Pod
metadata:
  name: ws
  namespace: team-a
  labels: {app.kubernetes.io/name: coder-workspace}
  annotations: {tilt-lib.platform/version: stable}
spec:
  containers: [{name: dev, image: busybox}]
`

// TestInjectVersionsFile: inject reads the versions document as serve does: its alias wins over
// the --alias flag of the same name; an invalid document is refused, naming the file and the rule.
func TestInjectVersionsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, doc string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "aliases: {stable: v2}\n")
	code, out, errOut := runCmd(t, stablePod, "inject", "-f", "-", "--alias", "stable=v1", "--versions-file", good)
	if code != 0 || !strings.Contains(out, "name: tilt-lib-v2") || strings.Contains(out, "tilt-lib-v1") {
		t.Errorf("document stable=v2 over --alias stable=v1: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runCmd(t, stablePod, "inject", "-f", "-", "--alias", "stable=v1")
	if code != 0 || !strings.Contains(out, "name: tilt-lib-v1") {
		t.Errorf("without the file the flag's stable=v1: exit %d\n%s", code, out)
	}
	// The document's rollouts decide offline too: at 100 % the named Pod (key team-a/ws) takes the
	// canary; at 0 % it stays on the alias's version.
	for percent, want := range map[string]string{"100": "tilt-lib-v3", "0": "tilt-lib-v2"} {
		f := write("rollout-"+percent+".yaml", "aliases: {stable: v2}\nrollouts:\n- {name: r, from: stable, to: v3, percent: \""+percent+"\"}\n")
		code, out, errOut := runCmd(t, stablePod, "inject", "-f", "-", "--versions-file", f)
		if code != 0 || !strings.Contains(out, "name: "+want+"\n") {
			t.Errorf("rollout at %s %%: exit %d, want %s mounted\n%s\n%s", percent, code, want, out, errOut)
		}
	}
	bad := write("bad.yaml", "aliases: {stable: v2}\nrollouts:\n- {name: r, from: v2, to: v3, percent: \"10.005\"}\n")
	code, _, errOut = runCmd(t, stablePod, "inject", "-f", "-", "--versions-file", bad)
	for _, want := range []string{"--versions-file " + bad, `from "v2" must be an alias`, `percent "10.005"`} {
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("invalid document: exit %d, stderr does not say %s:\n%s", code, want, errOut)
		}
	}
}
