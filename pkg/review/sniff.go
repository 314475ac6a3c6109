package review

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// sniffBytes is how far we look for the first non-blank byte of the body.
const sniffBytes = 512

// notAnObject reports the first non-blank byte of a JSON body when it cannot start a JSON
// object, and returns a body that still yields every byte. Without it, controller-runtime's
// decoder falls back to YAML and answers, for a body starting with a NUL byte, "yaml: control
// characters are not allowed".
func notAnObject(body io.ReadCloser) (first byte, bad bool, rest io.ReadCloser) {
	br := bufio.NewReaderSize(body, sniffBytes)
	rest = struct {
		io.Reader
		io.Closer
	}{br, body}
	for i := 0; i < sniffBytes; i++ {
		b, err := br.Peek(i + 1)
		if err != nil {
			return 0, false, rest // short or failed read: the webhook reports it
		}
		switch c := b[i]; c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return c, false, rest
		default:
			return c, true, rest
		}
	}
	return 0, false, rest
}

// notJSON answers like controller-runtime does for a malformed request: an AdmissionReview
// whose response is denied with code 400 and says what was wrong.
func notJSON(w http.ResponseWriter, first byte) {
	ar := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Response: &admissionv1.AdmissionResponse{Result: &metav1.Status{
			Code: http.StatusBadRequest,
			Message: fmt.Sprintf("tilt-lib-injector: the request body is not a JSON object (it starts with %q); "+
				"expected an admission.k8s.io/v1 AdmissionReview", first),
		}},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ar) // the client may be gone; nothing left to tell it
}
