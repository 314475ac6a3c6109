package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

const testPatch = `[{"op":"add","path":"/metadata/annotations/x","value":"y"}]`

// answer runs one review of the 6 KB workspace Pod in team-a through the arm's handler, as
// controller-runtime's admission.Webhook serves it.
func answer(t *testing.T, h http.Handler) *admissionv1.AdmissionResponse {
	t.Helper()
	rung, _ := reviewtest.RungNamed("6KB")
	body, err := reviewtest.Review("admission.k8s.io/v1", "team-a", reviewtest.WorkspacePod(rung.Shape), false)
	if err != nil {
		t.Fatal(err)
	}
	r := answerBody(t, h, body)
	if r.UID != reviewtest.ReviewUID {
		t.Fatalf("UID %q, want %q", r.UID, reviewtest.ReviewUID)
	}
	return r
}

func answerBody(t *testing.T, h http.Handler, body []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/mutate-v1-pod", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(w.Body.Bytes(), &ar); err != nil || ar.Response == nil {
		t.Fatalf("not a review: %v: %s", err, w.Body.Bytes())
	}
	if !ar.Response.Allowed {
		t.Fatalf("response: %+v", ar.Response)
	}
	return ar.Response
}

func writePatch(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "patch.json")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestModes(t *testing.T) {
	empty, err := handlerFor("empty", "")
	if err != nil {
		t.Fatal(err)
	}
	if r := answer(t, empty); len(r.Patch) != 0 {
		t.Errorf("empty arm patched: %s", r.Patch)
	}
	naive, err := handlerFor("naive", "")
	if err != nil {
		t.Fatal(err)
	}
	if r := answer(t, naive); !bytes.Contains(r.Patch, []byte("tilt-lib-v2")) {
		t.Errorf("naive arm did not mount tilt-lib-v2 in team-a: %s", r.Patch)
	}
	constant, err := handlerFor("constant", writePatch(t, testPatch))
	if err != nil {
		t.Fatal(err)
	}
	if r := answer(t, constant); string(r.Patch) != testPatch || r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Errorf("constant arm answered %s (%v), want the file's patch", r.Patch, r.PatchType)
	}
	floor, err := handlerFor("floor", writePatch(t, testPatch))
	if err != nil {
		t.Fatal(err)
	}
	if r := answer(t, floor); string(r.Patch) != testPatch || r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Errorf("floor arm answered %s (%v), want the file's patch", r.Patch, r.PatchType)
	}
	if _, err := handlerFor("fast", ""); err == nil || !strings.Contains(err.Error(), `-mode "fast"`) {
		t.Errorf("unknown mode: %v", err)
	}
}

func TestPatchFileBounds(t *testing.T) {
	atLimit := "[" + strings.Repeat(" ", maxPatch-2) + "]"
	if p, err := readPatch(writePatch(t, atLimit)); err != nil || len(p) != maxPatch {
		t.Errorf("a %d-byte patch: %d bytes, %v", maxPatch, len(p), err)
	}
	for content, want := range map[string]string{
		atLimit + " ":  "over 1048576 bytes",
		`{"op":"add"}`: "not a JSON patch",
		"":             "not a JSON patch",
	} {
		if _, err := readPatch(writePatch(t, content)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("patch of %d bytes starting %.10q: error %v, want %q", len(content), content, err, want)
		}
	}
	if _, err := readPatch(""); err == nil || !strings.Contains(err.Error(), "needs -patch") {
		t.Errorf("no -patch: %v", err)
	}
}
