package decide_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// fakeNamespaces is a Namespaces backed by a map; err, when set, is returned for every lookup.
type fakeNamespaces struct {
	ann map[string]map[string]string
	err error
}

func (f fakeNamespaces) NamespaceAnnotations(_ context.Context, name string) (map[string]string, bool, error) {
	a, ok := f.ann[name]
	return a, ok, f.err
}

type fakeEvents struct {
	mu       sync.Mutex
	findings []mutate.Finding
}

func (f *fakeEvents) Emit(_ string, fs []mutate.Finding) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.findings = append(f.findings, fs...)
}

type fixture struct {
	server  *httptest.Server
	reg     *prometheus.Registry
	metrics *metrics.Metrics
	events  *fakeEvents
}

// newFixture serves a Decider over these Namespaces and ConfigMaps, behind the edge as serve
// registers it.
func newFixture(t *testing.T, ns fakeNamespaces, cms mutate.ConfigMapLookup) *fixture {
	t.Helper()
	return fixtureWith(t, decide.Decider{Namespaces: ns, ConfigMaps: cms})
}

// reviewBytes builds real admission.k8s.io/v1 AdmissionReview bytes, as the API server sends them.
func reviewBytes(t *testing.T, op admissionv1.Operation, obj runtime.Object, dryRun bool) []byte {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	ar := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("0b1c2d3e"),
			Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Namespace: "team-a",
			Operation: op,
			Object:    runtime.RawExtension{Raw: raw},
			DryRun:    &dryRun,
		},
	}
	b, err := json.Marshal(ar)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post sends body and returns the HTTP status and the response: the AdmissionReview's for a
// decision, which must allow the Pod (the webhook never denies one), or, for a failed call (any
// other status), a response holding its v1 Status as Result.
func (f *fixture) post(t *testing.T, body []byte, contentType string) (int, *admissionv1.AdmissionResponse) {
	t.Helper()
	resp, err := http.Post(f.server.URL, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		var st metav1.Status
		if err := json.Unmarshal(b, &st); err != nil || st.Kind != "Status" || int(st.Code) != resp.StatusCode || bytes.Contains(b, []byte(`"response"`)) {
			t.Fatalf("HTTP %d is not a failed call with a Status: %v: %s", resp.StatusCode, err, b)
		}
		return resp.StatusCode, &admissionv1.AdmissionResponse{Result: &st}
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(b, &out); err != nil || out.Response == nil {
		t.Fatalf("response is not an AdmissionReview: %v: %s", err, b)
	}
	if !out.Response.Allowed {
		t.Fatalf("the webhook denied a Pod: %s", b)
	}
	return resp.StatusCode, out.Response
}

func (f *fixture) reviews(result string, reason mutate.Reason) float64 {
	return f.value("tiltlib_admission_reviews_total", map[string]string{"result": result, "reason": string(reason)})
}

// value is the counter value of the series with exactly these labels; 0 when absent.
func (f *fixture) value(name string, labels map[string]string) float64 {
	mfs, err := f.reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; !ok || v != lp.GetValue() {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// totalSeries sums every series of a metric family, so tests can assert nothing else moved.
func (f *fixture) totalSeries(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func applyPatch(t *testing.T, pod *corev1.Pod, resp *admissionv1.AdmissionResponse) *corev1.Pod {
	t.Helper()
	if resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Fatalf("patchType = %v, want JSONPatch", resp.PatchType)
	}
	p, err := jsonpatch.DecodePatch(resp.Patch)
	if err != nil {
		t.Fatalf("patch does not decode: %v", err)
	}
	raw, _ := json.Marshal(pod)
	out, err := p.Apply(raw)
	if err != nil {
		t.Fatalf("patch does not apply: %v", err)
	}
	var got corev1.Pod
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	return &got
}

func TestInjectsWorkspacePod(t *testing.T) {
	f := newFixture(t, fakeNamespaces{ann: map[string]map[string]string{"team-a": nil}},
		mutate.MapLookup{"team-a/tilt-lib": "1.4.0", "team-a/tilt-templates": "1.1.0"})
	pod := reviewtest.WorkspacePod(reviewtest.Shape{})
	code, resp := f.post(t, reviewBytes(t, admissionv1.Create, pod, false), "application/json")
	if code != http.StatusOK || !resp.Allowed || resp.UID != "0b1c2d3e" {
		t.Fatalf("code=%d allowed=%v uid=%q", code, resp.Allowed, resp.UID)
	}
	got := applyPatch(t, pod, resp)
	// Added after the Pod's own volume and mount.
	if vs := got.Spec.Volumes[len(pod.Spec.Volumes):]; len(vs) != 2 || vs[0].ConfigMap.Name != "tilt-lib" || vs[1].ConfigMap.Name != "tilt-templates" {
		t.Fatalf("volumes = %+v", got.Spec.Volumes)
	}
	if ms := got.Spec.Containers[0].VolumeMounts[len(pod.Spec.Containers[0].VolumeMounts):]; len(ms) != 2 || ms[0].MountPath != "/apps/tilt-lib" || !ms[0].ReadOnly {
		t.Fatalf("mounts = %+v", got.Spec.Containers[0].VolumeMounts)
	}
	if got.Annotations["tilt-lib.platform/status"] != "injected" || got.Labels["tilt-lib.platform/version"] != "default" {
		t.Fatalf("annotations=%v labels=%v", got.Annotations, got.Labels)
	}
	if len(resp.Warnings) != 0 {
		t.Fatalf("unexpected warnings %v", resp.Warnings)
	}
	if v := f.reviews("injected", "none"); v != 1 {
		t.Fatalf("reviews{injected,none} = %v, want 1", v)
	}
	if v := f.totalSeries(t, "tiltlib_admission_reviews_total"); v != 1 {
		t.Fatalf("reviews total = %v, want 1", v)
	}
	lib := f.value("tiltlib_injections_total", map[string]string{"component": "tilt-lib", "configmap": "tilt-lib", "version": "1.4.0", "source": "default"})
	tpl := f.value("tiltlib_injections_total", map[string]string{"component": "tilt-templates", "configmap": "tilt-templates", "version": "1.1.0", "source": "default"})
	if lib != 1 || tpl != 1 || f.totalSeries(t, "tiltlib_injections_total") != 2 {
		t.Fatalf("injections lib=%v templates=%v", lib, tpl)
	}
}

func TestNamespacePinMissingWarnsAndEmitsEvent(t *testing.T) {
	f := newFixture(t, fakeNamespaces{ann: map[string]map[string]string{"team-a": {"tilt-lib.platform/version": "v3"}}},
		mutate.MapLookup{"team-a/tilt-lib": "1.4.0", "team-a/tilt-templates": ""})
	pod := reviewtest.WorkspacePod(reviewtest.Shape{})
	_, resp := f.post(t, reviewBytes(t, admissionv1.Create, pod, false), "application/json")
	got := applyPatch(t, pod, resp)
	if v := got.Spec.Volumes[len(pod.Spec.Volumes)]; v.ConfigMap.Name != "tilt-lib" {
		t.Fatalf("fallback volume = %+v", v)
	}
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], `"tilt-lib-v3"`) || !strings.HasPrefix(resp.Warnings[0], mutate.WarningPrefix) {
		t.Fatalf("warnings = %q", resp.Warnings)
	}
	if v := f.reviews("injected", "configmap_missing"); v != 1 {
		t.Fatalf("reviews{injected,configmap_missing} = %v", v)
	}
	if v := f.value("tiltlib_injections_total", map[string]string{"component": "tilt-lib", "configmap": "tilt-lib", "version": "1.4.0", "source": "fallback"}); v != 1 {
		t.Fatalf("injections{fallback} = %v", v)
	}
	if len(f.events.findings) != 1 || f.events.findings[0].Reason != mutate.ReasonConfigMapMissing {
		t.Fatalf("events = %+v", f.events.findings)
	}
}

func TestDryRunMutatesButCountsNothing(t *testing.T) {
	f := newFixture(t, fakeNamespaces{ann: map[string]map[string]string{"team-a": {"tilt-lib.platform/version": "v3"}}}, mutate.MapLookup{})
	pod := reviewtest.WorkspacePod(reviewtest.Shape{})
	_, resp := f.post(t, reviewBytes(t, admissionv1.Create, pod, true), "application/json")
	got := applyPatch(t, pod, resp)
	if got.Spec.Volumes[len(pod.Spec.Volumes)].ConfigMap.Name != "tilt-lib-v3" || len(resp.Warnings) == 0 {
		t.Fatalf("dry-run: volumes=%+v warnings=%q", got.Spec.Volumes, resp.Warnings)
	}
	if r, i := f.totalSeries(t, "tiltlib_admission_reviews_total"), f.totalSeries(t, "tiltlib_injections_total"); r != 0 || i != 0 {
		t.Fatalf("dry-run moved metrics: reviews=%v injections=%v", r, i)
	}
	if len(f.events.findings) != 0 {
		t.Fatalf("dry-run emitted events: %+v", f.events.findings)
	}
}

func TestNonCreateAndNonPodAreAllowedUntouched(t *testing.T) {
	f := newFixture(t, fakeNamespaces{}, mutate.AllExist{})
	for _, op := range []admissionv1.Operation{admissionv1.Update, admissionv1.Delete, admissionv1.Connect} {
		code, resp := f.post(t, reviewBytes(t, op, reviewtest.WorkspacePod(reviewtest.Shape{}), false), "application/json")
		if code != http.StatusOK || !resp.Allowed || len(resp.Patch) != 0 || resp.PatchType != nil {
			t.Fatalf("%s: code=%d allowed=%v patch=%s", op, code, resp.Allowed, resp.Patch)
		}
	}
	if v := f.reviews("skipped", decide.ReasonNotPodCreate); v != 3 {
		t.Fatalf("reviews{skipped,not_pod_create} = %v, want 3", v)
	}
	if v := f.totalSeries(t, "tiltlib_injections_total"); v != 0 {
		t.Fatalf("injections = %v", v)
	}
}

func TestBadRequestsGetClearErrors(t *testing.T) {
	f := newFixture(t, fakeNamespaces{}, mutate.AllExist{})
	svc := &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}, ObjectMeta: metav1.ObjectMeta{Name: "x"}}
	notJSON := reviewBytes(t, admissionv1.Create, reviewtest.WorkspacePod(reviewtest.Shape{}), false)
	cases := []struct {
		name, contentType string
		body              []byte
		code              int
		msg               string
	}{
		{"garbage", "application/json", []byte("\x00{not json"), http.StatusBadRequest, `the request body is not a JSON object (it starts with '\x00'); expected an admission.k8s.io/v1 AdmissionReview`},
		{"empty object", "application/json", []byte(`{}`), http.StatusOK, ""},
		{"wrong content type", "text/plain", notJSON, http.StatusBadRequest, "contentType=text/plain"},
		{"wrong kind", "application/json", reviewBytes(t, admissionv1.Create, svc, false), http.StatusBadRequest, "not a decodable v1 Pod"},
		{"pod is garbage", "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE","namespace":"team-a","resource":{"version":"v1","resource":"pods"},"object":{"apiVersion":"v1","kind":"Pod","spec":{"containers":"dev"}}}}`), http.StatusBadRequest, "not a decodable v1 Pod"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, resp := f.post(t, c.body, c.contentType)
			if c.code == http.StatusOK {
				// An AdmissionReview without a Pod CREATE request: allowed untouched, never a panic.
				if code != http.StatusOK || !resp.Allowed || len(resp.Patch) != 0 {
					t.Fatalf("code=%d allowed=%v", code, resp.Allowed)
				}
				return
			}
			if code != c.code || resp.Allowed {
				t.Fatalf("code=%d allowed=%v, want %d denied; result=%+v", code, resp.Allowed, c.code, resp.Result)
			}
			if !strings.Contains(resp.Result.Message, c.msg) {
				t.Fatalf("message %q does not contain %q", resp.Result.Message, c.msg)
			}
		})
	}
	if v := f.reviews("error", "decode_error"); v != 2 {
		t.Fatalf("reviews{error,decode_error} = %v, want 2 (wrong kind, bad pod)", v)
	}
	// An oversized body is a failed call (HTTP 413): failurePolicy decides, the Pod is never denied.
	resp, err := http.Post(f.server.URL, "application/json", bytes.NewReader(bytes.Repeat([]byte(" "), 8<<20)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"kind":"Status"`) || !strings.Contains(string(b), "too large") {
		t.Fatalf("oversized: HTTP %d %s", resp.StatusCode, b)
	}
}

func TestNamespaceLookupErrorIsAFailedCall(t *testing.T) {
	f := newFixture(t, fakeNamespaces{err: errors.New("cache stopped")}, mutate.AllExist{})
	code, resp := f.post(t, reviewBytes(t, admissionv1.Create, reviewtest.WorkspacePod(reviewtest.Shape{}), false), "application/json")
	if code != http.StatusInternalServerError || resp.Allowed || !strings.Contains(resp.Result.Message, "cache stopped") {
		t.Fatalf("code=%d allowed=%v result=%+v", code, resp.Allowed, resp.Result)
	}
	if v := f.reviews("error", "cache_error"); v != 1 {
		t.Fatalf("reviews{error,cache_error} = %v", v)
	}
}

func TestAlreadyInjectedPodGetsNoPatch(t *testing.T) {
	f := newFixture(t, fakeNamespaces{ann: map[string]map[string]string{"team-a": nil}}, mutate.AllExist{})
	pod := reviewtest.WorkspacePod(reviewtest.Shape{})
	_, first := f.post(t, reviewBytes(t, admissionv1.Create, pod, false), "application/json")
	injected := applyPatch(t, pod, first)
	_, second := f.post(t, reviewBytes(t, admissionv1.Create, injected, false), "application/json")
	if !second.Allowed || len(second.Patch) != 0 || second.PatchType != nil {
		t.Fatalf("second pass patched: %s", second.Patch)
	}
	if v := f.reviews("skipped", "already_injected"); v != 1 {
		t.Fatalf("reviews{skipped,already_injected} = %v", v)
	}
	if v := f.totalSeries(t, "tiltlib_injections_total"); v != 2 {
		t.Fatalf("injections = %v, want 2 (first pass only)", v)
	}
}

func TestUnsyncedCachesAnswerAtOnce(t *testing.T) {
	f := newFixture(t, fakeNamespaces{}, mutate.AllExist{})
	h := &decide.Decider{Options: mutate.DefaultOptions(), Namespaces: fakeNamespaces{}, ConfigMaps: mutate.AllExist{},
		Metrics: f.metrics, Events: f.events, Log: logr.Discard(), Synced: func() bool { return false }}
	srv := httptest.NewServer(review.New(h))
	defer srv.Close()
	f.server = srv
	code, resp := f.post(t, reviewBytes(t, admissionv1.Create, reviewtest.WorkspacePod(reviewtest.Shape{}), false), "application/json")
	if code != http.StatusServiceUnavailable || resp.Allowed || !strings.Contains(resp.Result.Message, "not synced") {
		t.Fatalf("code=%d allowed=%v result=%+v", code, resp.Allowed, resp.Result)
	}
	if v := f.reviews("error", "not_ready"); v != 1 {
		t.Fatalf("reviews{error,not_ready} = %v", v)
	}
}
