package review

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-json-experiment/json"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	admissionmetrics "sigs.k8s.io/controller-runtime/pkg/webhook/admission/metrics"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
)

// Path is where the admission review is served.
const Path = "/mutate-v1-pod"

// Handler serves Path: one read, one decode, pkg/decide's decision, one write.
type Handler struct {
	decider *decide.Decider
}

// New serves the decisions of h.
func New(h *decide.Decider) *Handler { return &Handler{decider: h} }

// ServeHTTP implements http.Handler. The checks before the decision come in controller-runtime's
// order (empty body, read error, size, content type, decode), with its codes, so a request gets
// the same code on either path; but a body that reaches MaxBodyBytes is a failed call (HTTP 413),
// as the Edge answers it, where controller-runtime denies with an AdmissionReview.
func (a *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if eb, ok := r.Body.(*edgeBody); ok { // read by the Edge, which owns the buffer
		a.serve(w, r, eb.buf, *eb.buf)
		return
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if r.Body == nil || r.Body == http.NoBody {
		a.refuse(w, buf, http.StatusBadRequest, errors.New("request body is empty"))
		return
	}
	defer r.Body.Close()
	body, _, err := readBody(buf, r, nil)
	switch {
	case errors.Is(err, errTooLarge):
		failedCall(w, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge, false, "tilt-lib-injector: "+err.Error())
		return
	case err != nil:
		a.refuse(w, buf, http.StatusBadRequest, err)
		return
	}
	a.serve(w, r, buf, body)
}

// serve answers the complete body, which buf holds; the answer is written over it.
func (a *Handler) serve(w http.ResponseWriter, r *http.Request, buf *[]byte, body []byte) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		a.refuse(w, buf, http.StatusBadRequest, fmt.Errorf("contentType=%s, expected application/json", ct))
		return
	}
	rv, t, err := decode(body)
	if err != nil {
		a.refuse(w, buf, http.StatusBadRequest, err)
		return
	}
	ans := a.decide(r.Context(), rv)
	var patch []byte
	if len(ans.Patch) > 0 {
		// The patch bytes are what controller-runtime's Response.Complete marshals, written into
		// a second pooled buffer and base64-encoded into the response.
		pb := getBuffer()
		defer putBuffer(pb)
		if patch, err = marshalPatch((*pb)[:0], ans.Patch); err != nil {
			a.decider.Log.Error(err, "cannot encode the patch", "uid", rv.UID)
			ans, patch = decide.Answer{Code: http.StatusInternalServerError, Message: "unable to encode response"}, nil
		} else {
			*pb = patch
		}
	}
	a.write(w, buf, appendReview((*buf)[:0], t, rv.UID, ans, patch))
}

// decide runs the shared decision on the slim request. A panic is answered like
// controller-runtime answers it: code 500 with the request's UID, counted in
// controller_runtime_webhook_panics_total.
func (a *Handler) decide(ctx context.Context, rv *request) (ans decide.Answer) {
	defer func() {
		if v := recover(); v != nil {
			admissionmetrics.WebhookPanics.WithLabelValues().Inc()
			a.decider.Log.Error(fmt.Errorf("panic: %v", v), "observed a panic in the admission handler", "uid", rv.UID)
			ans = decide.Answer{Code: http.StatusInternalServerError, Message: fmt.Sprintf("panic: %v [recovered]", v)}
		}
	}()
	return a.decider.Decide(ctx, decide.Request{
		UID:         types.UID(rv.UID),
		Operation:   admissionv1.Operation(rv.Operation),
		Resource:    rv.Resource,
		SubResource: rv.SubResource,
		Namespace:   rv.Namespace,
		DryRun:      rv.DryRun != nil && *rv.DryRun,
		Pod:         rv.Object.toPod,
	})
}

// toPod is the decoded object as the decision's Pod, or why there is none.
func (o *object) toPod() (*corev1.Pod, error) {
	switch {
	case !o.present:
		return nil, errNoObject
	case o.err != nil:
		return nil, o.err
	}
	return o.pod.toPod()
}

// decode reads the AdmissionReview in one pass. A body that is not a JSON object is refused, with
// its first non-blank byte when it has one: controller-runtime's decoder would try YAML and answer
// with the YAML parser's error ("yaml: control characters are not allowed" for a NUL byte).
func decode(body []byte) (*request, gvk, error) {
	first, ok := firstByte(body)
	if !ok {
		return nil, gvk{}, errors.New("tilt-lib-injector: the request body is not a JSON object; expected an admission.k8s.io/v1 AdmissionReview")
	}
	if first != '{' {
		return nil, gvk{}, fmt.Errorf("tilt-lib-injector: the request body is not a JSON object (it starts with %q); "+
			"expected an admission.k8s.io/v1 AdmissionReview", first)
	}
	var rv review
	if err := json.Unmarshal(body, &rv, decodeOptions); err != nil {
		return nil, gvk{}, fmt.Errorf("tilt-lib-injector: cannot decode the AdmissionReview: %w", err)
	}
	group, version, ok := parseGroupVersion(rv.APIVersion)
	if !ok {
		return nil, gvk{}, fmt.Errorf("tilt-lib-injector: AdmissionReview apiVersion %q is not group/version", rv.APIVersion)
	}
	t := gvk{apiVersion: version, kind: rv.Kind}
	if group != "" {
		t.apiVersion = group + "/" + version
	}
	if t == (gvk{}) {
		// controller-runtime answers an unversioned review as v1.
		t = gvk{apiVersion: admissionv1.SchemeGroupVersion.String(), kind: "AdmissionReview"}
	}
	if rv.Request == nil {
		return &request{}, t, nil
	}
	return rv.Request, t, nil
}

// firstByte is the first byte of b that is not JSON whitespace; ok is false when there is none.
func firstByte(b []byte) (first byte, ok bool) {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c, true
	}
	return 0, false
}

// refuse answers a request that never reached the decision, without apiVersion and kind as
// controller-runtime does.
func (a *Handler) refuse(w http.ResponseWriter, buf *[]byte, code int32, err error) {
	a.decider.Log.Error(err, "refused an admission request before its decision", "code", code)
	a.write(w, buf, appendReview((*buf)[:0], gvk{}, "", decide.Answer{Code: code, Message: err.Error()}, nil))
}

func (a *Handler) write(w http.ResponseWriter, buf *[]byte, out []byte) {
	*buf = out
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out) // the client may be gone; nothing left to tell it
}
