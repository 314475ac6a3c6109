package mutate_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// TestPatchEscapesPointerTokens: "~" must become "~0" before "/" becomes "~1", or a key holding
// both lands under the wrong name. A valid prefix never contains "~" (Validate rejects it), so
// this drives Mutate with an unvalidated prefix: escaping must not rely on validation.
func TestPatchEscapesPointerTokens(t *testing.T) {
	o := mutate.DefaultOptions()
	o.AnnotationPrefix = "a~1b/"
	pod := &corev1.Pod{}
	pod.Annotations = map[string]string{"keep": "me"} // keys are then added one by one
	pod.Labels = map[string]string{"keep": "me"}
	pod.Spec.Containers = []corev1.Container{{Name: "dev"}}

	res := mutate.Mutate(o, mutate.Request{Namespace: "team-a", Pod: pod})
	want := map[string]bool{
		"/metadata/annotations/a~01b~1status": true,
		"/metadata/labels/a~01b~1version":     true,
	}
	for _, op := range res.Patch {
		delete(want, op.Path)
	}
	if len(want) > 0 {
		t.Errorf("patch %s lacks the escaped paths %v", mustJSON(t, res.Patch), want)
	}
	orig := mustJSON(t, pod)
	applied, err := applyOps(orig, res.Patch)
	if err != nil {
		t.Fatal(err)
	}
	out := decodePod(t, applied)
	if out.Annotations["a~1b/status"] != "injected" || out.Labels["a~1b/version"] != "default" ||
		out.Annotations["keep"] != "me" || out.Labels["keep"] != "me" {
		t.Errorf("keys landed under the wrong names: annotations %v labels %v", out.Annotations, out.Labels)
	}
}
