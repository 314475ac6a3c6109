package review

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"

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
// the same code on either path. Every answer that is not a decision is a failed call (failCall):
// an HTTP error status with a metav1.Status, never an AdmissionReview, which the API server would
// take as a denial of the Pod whatever the failurePolicy. A panic anywhere below is recovered
// here: that request gets a failed call, the replica keeps serving.
func (a *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var uid string // the request's, once decoded: for the log line of a panic
	defer a.recoverPanic(w, &uid)
	if eb, ok := r.Body.(*edgeBody); ok { // read by the Edge, which owns the buffer
		a.serve(w, r, eb.buf, *eb.buf, &uid)
		return
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if r.Body == nil || r.Body == http.NoBody {
		a.refuse(w, http.StatusBadRequest, errors.New("tilt-lib-injector: the request body is empty"))
		return
	}
	defer r.Body.Close()
	body, _, err := readBody(buf, r, nil)
	switch {
	case errors.Is(err, errTooLarge):
		failedCall(w, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge, false, "tilt-lib-injector: "+err.Error())
		return
	case err != nil:
		a.refuse(w, http.StatusBadRequest, fmt.Errorf("tilt-lib-injector: reading the request body: %w", err))
		return
	}
	a.serve(w, r, buf, body, &uid)
}

// serve answers the complete body, which buf holds; the answer is written over it.
func (a *Handler) serve(w http.ResponseWriter, r *http.Request, buf *[]byte, body []byte, uid *string) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		a.refuse(w, http.StatusBadRequest, fmt.Errorf("tilt-lib-injector: contentType=%s, expected application/json", ct))
		return
	}
	rv, t, err := decode(body)
	if err != nil {
		a.refuse(w, http.StatusBadRequest, err)
		return
	}
	*uid = rv.UID
	ans := a.decider.Decide(r.Context(), decide.Request{
		UID:         types.UID(rv.UID),
		Operation:   admissionv1.Operation(rv.Operation),
		Resource:    rv.Resource,
		SubResource: rv.SubResource,
		Namespace:   rv.Namespace,
		DryRun:      rv.DryRun != nil && *rv.DryRun,
		Pod:         rv.Object.toPod,
	})
	if !ans.Allowed {
		// Decided not to decide (caches not synced, no Pod, the Namespace unreadable): the
		// decision already counted and logged it.
		failCall(w, ans.Code, ans.Message)
		return
	}
	var patch []byte
	if len(ans.Patch) > 0 {
		// The patch bytes are what controller-runtime's Response.Complete marshals, written into
		// a second pooled buffer and base64-encoded into the response.
		pb := getBuffer()
		defer putBuffer(pb)
		if patch, err = marshalPatch((*pb)[:0], ans.Patch); err != nil {
			a.decider.Log.Error(err, "cannot encode the patch", "uid", decide.LogValue(rv.UID))
			failCall(w, http.StatusInternalServerError, "tilt-lib-injector: unable to encode the response")
			return
		}
		*pb = patch
	}
	a.write(w, buf, appendReview((*buf)[:0], t, rv.UID, ans, patch))
}

// recoverPanic turns a panic in this request into a failed call (HTTP 500) for this request
// only: counted (tiltlib_admission_reviews_total{result="error",reason="panic"}, and
// controller-runtime's controller_runtime_webhook_panics_total as before), logged with the
// request's UID and the stack. net/http would otherwise recover it too, but silently and by
// dropping the connection.
func (a *Handler) recoverPanic(w http.ResponseWriter, uid *string) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler { // net/http's own way to abort a response: left to it
		panic(v)
	}
	admissionmetrics.WebhookPanics.WithLabelValues().Inc()
	a.decider.Metrics.Error(ReasonPanic)
	a.decider.Log.Error(fmt.Errorf("panic: %v", v), "recovered a panic in the admission handler; answered a failed call",
		"uid", decide.LogValue(*uid), "stack", string(debug.Stack()))
	failCall(w, http.StatusInternalServerError, fmt.Sprintf("tilt-lib-injector: internal error (panic: %s) [recovered]", decide.LogValue(fmt.Sprint(v))))
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

// refuse answers a request that never reached the decision with a failed call.
func (a *Handler) refuse(w http.ResponseWriter, code int32, err error) {
	a.decider.Log.Error(err, "refused an admission request before its decision", "code", code)
	failCall(w, code, err.Error())
}

func (a *Handler) write(w http.ResponseWriter, buf *[]byte, out []byte) {
	*buf = out
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out) // the client may be gone; nothing left to tell it
}
