package review

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// controller-runtime's admission.Webhook logs through its global logger, which otherwise
// complains, with a stack trace, that it was never set.
func init() { logf.SetLogger(logr.Discard()) }

// journal records every metric and Event call of one path, so two paths can be held to the
// same decisions, not only the same bytes.
type journal struct {
	mu    sync.Mutex
	calls []string
}

func (j *journal) add(format string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.calls = append(j.calls, fmt.Sprintf(format, args...))
}

func (j *journal) Observe(r mutate.Result) {
	j.add("observe %s %s %d", r.Outcome, r.Reason, len(r.Injected))
}
func (j *journal) Error(reason mutate.Reason)   { j.add("error %s", reason) }
func (j *journal) Skipped(reason mutate.Reason) { j.add("skipped %s", reason) }
func (j *journal) Emit(ns string, fs []mutate.Finding) {
	for _, f := range fs {
		j.add("event %s %s %s", ns, f.Reason, f.Component)
	}
}

func (j *journal) take() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := j.calls
	j.calls = nil
	return c
}

type mapNamespaces map[string]map[string]string

func (m mapNamespaces) NamespaceAnnotations(_ context.Context, name string) (map[string]string, bool, error) {
	a, ok := m[name]
	return a, ok, nil
}

// env is what both paths decide with.
type env struct {
	namespaces mapNamespaces
	configMaps mutate.ConfigMapLookup
	selector   labels.Selector
	synced     bool
}

func defaultEnv() env {
	return env{
		namespaces: mapNamespaces{
			"team-a": {"tilt-lib.platform/version": "v2"},
			"locked": {"tilt-lib.platform/version": "v2", "tilt-lib.platform/allow-pod-override": "false"},
		},
		configMaps: mutate.MapLookup{"team-a/tilt-lib-v2": "2.0.1", "team-a/tilt-templates": "1.1.0", "locked/tilt-lib-v2": "2.0.1"},
		synced:     true,
	}
}

// paths is the old path (controller-runtime's admission.Webhook over reviewtest.ControllerRuntime)
// and the new one (Handler over Decide), each with its own journal.
type paths struct {
	old, new       http.Handler
	oldLog, newLog *journal
}

func newPaths(e env) paths {
	var ns decide.Namespaces = e.namespaces
	mk := func(j *journal) *decide.Decider {
		return &decide.Decider{
			Options: mutate.DefaultOptions(), Namespaces: ns, ConfigMaps: e.configMaps,
			Metrics: j, Events: j, Log: logr.Discard(), Selector: e.selector,
			Synced: func() bool { return e.synced },
		}
	}
	p := paths{oldLog: &journal{}, newLog: &journal{}}
	p.old = &admission.Webhook{Handler: reviewtest.ControllerRuntime(mk(p.oldLog))}
	p.new = New(mk(p.newLog))
	return p
}

// call is one request: body (nil sends no body) and Content-Type.
type call struct {
	body        []byte
	contentType string
}

func serve(h http.Handler, c call) (int, []byte) {
	var body *bytes.Reader
	r := httptest.NewRequest(http.MethodPost, Path, nil)
	if c.body != nil {
		body = bytes.NewReader(c.body)
		r = httptest.NewRequest(http.MethodPost, Path, body)
	}
	r.Header.Set("Content-Type", c.contentType)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

// verdict is how a differential comparison ended.
type verdict int

const (
	identical      verdict = iota // same bytes, same metrics and Events
	callFailed                    // controller-runtime denies with code C; ours answers a failed call, HTTP C, same decisions
	notJSONObject                 // ours refuses a body that is not a JSON object (deliberate, below)
	unreadTypeOnly                // controller-runtime refused a type error in a field we do not read
	overCap                       // ours answers a failed call, 413, to a body of MaxBodyBytes or more (deliberate, below)
)

// compare sends c through both paths and fails t unless they agree (see verdict).
func (p paths) compare(t testing.TB, c call) verdict {
	t.Helper()
	oldCode, oldBody := serve(p.old, c)
	newCode, newBody := serve(p.new, c)
	oldJ, newJ := p.oldLog.take(), p.newLog.take()
	// A body of MaxBodyBytes (3 MiB) or more: ours answers a failed call, HTTP 413 with a
	// Status, so failurePolicy decides (Ignore admits the Pod as it is), and decides nothing.
	// controller-runtime reads up to its own 7 MiB: below that it decides; at it, it denies the
	// Pod with an AdmissionReview of code 413. Deliberate (issue 23): 3 MiB fits the largest plain
	// Pod the API server stores (1.50 MiB, docs/design.md, Bounds), and a denial is never ours.
	if len(c.body) >= MaxBodyBytes {
		var st metav1.Status
		if err := json.Unmarshal(newBody, &st); err != nil || newCode != http.StatusRequestEntityTooLarge ||
			st.Code != http.StatusRequestEntityTooLarge || st.Reason != metav1.StatusReasonRequestEntityTooLarge || len(newJ) != 0 {
			t.Fatalf("a %d-byte body: ours answered %d %s (decisions %q), want a 413 Status", len(c.body), newCode, newBody, newJ)
		}
		if oldCode != http.StatusOK {
			t.Fatalf("controller-runtime answered HTTP %d", oldCode)
		}
		return overCap
	}
	if oldCode != http.StatusOK {
		t.Fatalf("HTTP status: controller-runtime %d", oldCode)
	}
	theirs := mustReview(t, oldBody)
	if newCode != http.StatusOK {
		return p.checkFailedCall(t, c, theirs, newCode, newBody, oldJ, newJ)
	}
	ours := mustReview(t, newBody)
	if !ours.Response.Allowed {
		t.Fatalf("ours denied the Pod (an AdmissionReview with allowed false): %s", newBody)
	}
	if bytes.Equal(oldBody, newBody) {
		if strings.Join(oldJ, "\n") != strings.Join(newJ, "\n") {
			t.Fatalf("same response, different decisions:\ncontroller-runtime %q\nours %q", oldJ, newJ)
		}
		return identical
	}
	if or := theirs.Response; !or.Allowed && or.Result.Code == http.StatusBadRequest && fullyTypedFails(c.body) {
		return unreadTypeOnly
	}
	t.Fatalf("paths differ for %q:\ncontroller-runtime %s\nours               %s\ndecisions %q vs %q", truncateBody(c.body), oldBody, newBody, oldJ, newJ)
	return identical
}

// checkFailedCall checks an answer of ours that is not 200: where controller-runtime denies the Pod
// with an errored AdmissionReview of some code, ours answers a failed call with that HTTP code
// and a metav1.Status saying why (prefixed tilt-lib-injector:), after the same decisions.
func (p paths) checkFailedCall(t testing.TB, c call, theirs admissionv1.AdmissionReview, newCode int, newBody []byte, oldJ, newJ []string) verdict {
	t.Helper()
	st := mustStatus(t, newBody)
	if int(st.Code) != newCode || !strings.HasPrefix(st.Message, "tilt-lib-injector: ") {
		t.Fatalf("failed call %d with %s", newCode, newBody)
	}
	// A body that is not a JSON object: controller-runtime tries YAML; ours refuses it with 400
	// and says so, naming the first non-blank byte.
	if first, ok := firstByte(c.body); first != '{' && c.body != nil {
		want := "tilt-lib-injector: the request body is not a JSON object; "
		if ok {
			want = fmt.Sprintf("tilt-lib-injector: the request body is not a JSON object (it starts with %q); ", first)
		}
		if newCode != http.StatusBadRequest || !strings.HasPrefix(st.Message, want) {
			t.Fatalf("a body that is not a JSON object was not refused with 400 and %q: %s", want, newBody)
		}
		return notJSONObject
	}
	if or := theirs.Response; or.Allowed || int(or.Result.Code) != newCode || strings.Join(oldJ, "\n") != strings.Join(newJ, "\n") {
		t.Fatalf("ours failed the call (%d %q) where controller-runtime answered %+v; decisions %q vs %q", newCode, st.Message, theirs.Response, oldJ, newJ)
	}
	return callFailed
}

// mustStatus decodes a failed call's body: a metav1.Status, never an AdmissionReview (which the
// API server would take for a denial).
func mustStatus(t testing.TB, b []byte) metav1.Status {
	t.Helper()
	var st metav1.Status
	if err := json.Unmarshal(b, &st); err != nil || st.Kind != "Status" || st.APIVersion != "v1" || st.Status != metav1.StatusFailure || bytes.Contains(b, []byte(`"response"`)) {
		t.Fatalf("a failed call's body is not a v1 Status: %v: %s", err, b)
	}
	return st
}

func truncateBody(b []byte) []byte {
	if len(b) > 2000 {
		return b[:2000]
	}
	return b
}

func mustReview(t testing.TB, b []byte) admissionv1.AdmissionReview {
	t.Helper()
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(b, &ar); err != nil || ar.Response == nil || ar.Response.Result == nil {
		t.Fatalf("not an AdmissionReview response: %v: %s", err, b)
	}
	return ar
}

// fullyTypedFails reports whether the body fails a full typed decode with our JSON semantics
// (the AdmissionReview, then its object as a Pod): the failures the slim view skips on purpose.
func fullyTypedFails(body []byte) bool {
	var ar admissionv1.AdmissionReview
	if err := jsonv2.Unmarshal(body, &ar, decodeOptions); err != nil {
		return true
	}
	if ar.Request == nil || len(ar.Request.Object.Raw) == 0 {
		return false
	}
	var pod corev1.Pod
	return jsonv2.Unmarshal(ar.Request.Object.Raw, &pod, decodeOptions) != nil
}

// reviewOf is an AdmissionReview of apiVersion (admission.k8s.io/v1 or v1beta1) creating pod in
// namespace, as the API server sends it.
func reviewOf(t testing.TB, apiVersion, namespace string, pod *corev1.Pod, dryRun bool) []byte {
	t.Helper()
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	return reviewRaw(t, apiVersion, namespace, raw, dryRun)
}

func reviewRaw(t testing.TB, apiVersion, namespace string, raw []byte, dryRun bool) []byte {
	t.Helper()
	b, err := reviewtest.ReviewRaw(apiVersion, namespace, raw, dryRun)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
