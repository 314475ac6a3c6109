package decide_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// The label values tiltlib_admission_reviews_total may ever carry. Deliberately re-declared
// here as the contract (an oracle): a new reason must be added on purpose, with its docs.
var (
	boundedResults = map[string]bool{"injected": true, "skipped": true, "error": true}
	boundedReasons = map[string]bool{
		"none": true, "volume_conflict": true, "mountpath_conflict": true, "invalid_version": true,
		"configmap_missing": true, "opted_out": true, "no_target_container": true, "override_forbidden": true,
		"already_injected": true, "not_pod_create": true, "not_selected": true, "decode_error": true,
		"invalid_namespace": true, "cache_error": true, "not_ready": true, "overloaded": true, "request_timeout": true,
		"unknown_container": true, "invalid_annotation": true, "too_many_containers": true, "annotations_too_large": true,
	}
)

// FuzzHandle posts arbitrary bodies, and arbitrary Pod objects inside a valid AdmissionReview, to
// the decision on controller-runtime's path (reviewtest.ControllerRuntime, whose decoder also
// decodes the Pod the patch is applied to) behind the edge with panic recovery OFF: any panic in
// our code fails the fuzz run.
// Properties:
//   - every answer is a well-formed AdmissionReview response; for the wrapped Pod it carries the
//     request UID;
//   - when a patch comes back, it applies to the Pod as decoded, and the patched Pod submitted
//     again gets an empty patch (idempotence, as reinvocationPolicy IfNeeded relies on);
//   - the reviews metric only ever carries label values from the fixed sets above.
func FuzzHandle(f *testing.F) {
	f.Add([]byte(`{}`), []byte(`{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"dev"}]}}`))
	f.Add([]byte("\x00garbage"), []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{"tilt-lib.platform/version":"~/"}},"spec":{"volumes":null,"containers":[{"name":"dev","volumeMounts":[{"name":"x","mountPath":"/apps/tilt-lib/"}]}]}}`))
	f.Add([]byte(`{"request":{"operation":"CREATE"}}`), []byte(`{"kind":"Service","apiVersion":"v1"}`))
	f.Add([]byte(`{"request":null}`), []byte(`null`))
	f.Add([]byte(`{"request":{"uid":"x","operation":"CREATE","namespace":"Bad NS","resource":{"version":"v1","resource":"pods"}}}`),
		[]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{"tilt-lib.platform/inject":"false"}},"spec":{"containers":[{"name":"a"},{"name":"dev"}]}}`))
	f.Add([]byte(` [1]`), []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{"tilt-lib.platform/containers":"dev,dev,x","tilt-lib.platform/templates-version":"v9"}},"spec":{"volumes":[{"name":"tilt-lib","emptyDir":{}}],"containers":[{"name":"dev"}]}}`))

	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	h := &decide.Decider{Options: mutate.DefaultOptions(), Namespaces: fakeNamespaces{ann: map[string]map[string]string{
		"team-a": {"tilt-lib.platform/version": "v2", "tilt-lib.platform/allow-pod-override": "false"},
	}}, ConfigMaps: mutate.MapLookup{"team-a/tilt-lib": "1"}, Metrics: m, Events: &fakeEvents{}, Log: logr.Discard()}
	noRecover := false
	srv := review.NewEdge(&admission.Webhook{Handler: reviewtest.ControllerRuntime(h), RecoverPanic: &noRecover}, review.EdgeOptions{})

	post := func(t *testing.T, b []byte) *admissionv1.AdmissionResponse {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, review.Path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		srv.ServeHTTP(rec, req)
		var out admissionv1.AdmissionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil {
			t.Fatalf("not an AdmissionReview response: %v: %s", err, rec.Body.Bytes())
		}
		return out.Response
	}

	f.Fuzz(func(t *testing.T, body, podJSON []byte) {
		post(t, body)

		obj := object(podJSON)
		first := post(t, wrap(obj))
		if first.UID != "u" {
			t.Fatalf("response UID %q, want the request's", first.UID)
		}
		if len(first.Patch) > 0 {
			pod, err := reviewtest.DecodePod(obj)
			if err != nil {
				t.Fatalf("patched a Pod that does not decode: %v", err)
			}
			patched := applyTo(t, pod, first.Patch)
			if second := post(t, wrap(patched)); len(second.Patch) != 0 {
				t.Fatalf("second pass patched again: %s\nfirst patch: %s", second.Patch, first.Patch)
			}
		}
		checkBoundedLabels(t, reg)
	})
}

// object keeps raw bytes usable as the object of a review: JSON as is, anything else as a string.
func object(raw []byte) []byte {
	if json.Valid(raw) {
		return raw
	}
	s, _ := json.Marshal(string(raw))
	return s
}

// wrap puts obj as the object of a Pod CREATE review in team-a.
func wrap(obj []byte) []byte {
	return []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"version":"v1","kind":"Pod"},"resource":{"version":"v1","resource":"pods"},"namespace":"team-a","operation":"CREATE","object":` + string(object(obj)) + `}}`)
}

// applyTo applies a JSON patch to the Pod as the API server holds it (serialised from the
// decoded object).
func applyTo(t *testing.T, pod *corev1.Pod, patch []byte) []byte {
	t.Helper()
	p, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		t.Fatalf("patch does not decode: %v: %s", err, patch)
	}
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Apply(raw)
	if err != nil {
		t.Fatalf("patch does not apply to the decoded Pod: %v\npatch: %s\npod: %s", err, patch, raw)
	}
	return out
}

func checkBoundedLabels(t *testing.T, reg *prometheus.Registry) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "tiltlib_admission_reviews_total" {
			continue
		}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if (l.GetName() == "result" && !boundedResults[l.GetValue()]) || (l.GetName() == "reason" && !boundedReasons[l.GetValue()]) {
					t.Fatalf("unbounded label %s=%q", l.GetName(), l.GetValue())
				}
			}
		}
	}
}
