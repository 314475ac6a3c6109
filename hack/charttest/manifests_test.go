package charttest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestManifestsAreTheDefaultRender: manifests/ (the kustomize base) is the chart rendered with its
// default values (the header aside), and kustomize builds it with the Namespace first.
func TestManifestsAreTheDefaultRender(t *testing.T) {
	got, err := os.ReadFile("../../manifests/tilt-lib-injector.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := template(t)
	if err != nil {
		t.Fatal(err)
	}
	// The two comment lines of hack/manifests.sh, then the render.
	for range 2 {
		if i := bytes.IndexByte(got, '\n'); i >= 0 && bytes.HasPrefix(got, []byte("#")) {
			got = got[i+1:]
		}
	}
	if !bytes.Equal(got, want) {
		t.Error("manifests/tilt-lib-injector.yaml is stale: run `make manifests`")
	}
	kubectl := filepath.Join(filepath.Dir(helm(t)), "kubectl")
	out, err := exec.Command(kubectl, "kustomize", "../../manifests").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize manifests: %v\n%s", err, out)
	}
	r := parse(t, out)
	for _, k := range []string{"Namespace/" + releaseNS, deployKey, webhookKy} {
		if _, ok := r[k]; !ok {
			t.Errorf("kustomize build has no %s", k)
		}
	}
}
