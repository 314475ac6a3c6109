package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A body without the API server's prefix (reordered, spaced) is decoded in full: the UID is
// still the request's, never the userInfo's.
func TestFloorFallsBackToADecode(t *testing.T) {
	body := []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request": {"userInfo":{"uid":"not-this"},"uid":"abc-123"}}`)
	if r := answerBody(t, floor{patch: []byte(testPatch)}, body); r.UID != "abc-123" {
		t.Errorf("UID %q, want abc-123", r.UID)
	}
}

func TestPrefixUID(t *testing.T) {
	for body, want := range map[string]string{
		`{"request":{"uid":"705ab4f5-6393"}}`:                    "705ab4f5-6393",
		`{"request":{"uid":"a\"b"}}`:                             "", // an escape: decoded in full instead
		`{"request":{"uid":""}}`:                                 "",
		`{"request":{"kind":{},"uid":"x"}}`:                      "",
		`{"request":{"uid":"` + strings.Repeat("a", 129) + `"}}`: "",
	} {
		got, ok := prefixUID([]byte(body))
		if got != want || ok != (want != "") {
			t.Errorf("prefixUID(%.40s) = %q, %t; want %q", body, got, ok, want)
		}
	}
}

func TestFloorRefusesBadBodies(t *testing.T) {
	for name, body := range map[string][]byte{
		"over the bound": append([]byte(`{"request":{"uid":"x"},"pad":"`), bytes.Repeat([]byte("a"), maxBody)...),
		"no request":     []byte(`{"kind":"AdmissionReview"}`),
		"not JSON":       []byte(`garbage`),
	} {
		w := httptest.NewRecorder()
		floor{patch: []byte(testPatch)}.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/mutate-v1-pod", bytes.NewReader(body)))
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d, want 400", name, w.Code)
		}
	}
}
