package handler

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// FuzzHandle posts arbitrary bodies, and arbitrary Pod objects inside a valid AdmissionReview, to
// the handler with panic recovery OFF: any panic in our code fails the fuzz run. Every answer must
// be a well-formed AdmissionReview response.
func FuzzHandle(f *testing.F) {
	f.Add([]byte(`{}`), []byte(`{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"dev"}]}}`))
	f.Add([]byte("\x00garbage"), []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{"tilt-lib.platform/version":"~/"}},"spec":{"volumes":null,"containers":[{"name":"dev","volumeMounts":[{"name":"x","mountPath":"/apps/tilt-lib/"}]}]}}`))
	f.Add([]byte(`{"request":{"operation":"CREATE"}}`), []byte(`{"kind":"Service","apiVersion":"v1"}`))
	f.Add([]byte(`{"request":null}`), []byte(`null`))

	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	h := New(Handler{Options: mutate.DefaultOptions(), Namespaces: fakeNamespaces{ann: map[string]map[string]string{
		"team-a": {"tilt-lib.platform/version": "v2", "tilt-lib.platform/allow-pod-override": "false"},
	}}, ConfigMaps: mutate.MapLookup{"team-a/tilt-lib": "1"}, Metrics: m, Events: &fakeEvents{}, Log: logr.Discard()})
	noRecover := false
	wh := &admission.Webhook{Handler: h, RecoverPanic: &noRecover}

	f.Fuzz(func(t *testing.T, body, podJSON []byte) {
		for _, b := range [][]byte{body, wrap(podJSON)} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			wh.ServeHTTP(rec, req)
			var out admissionv1.AdmissionReview
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil {
				t.Fatalf("not an AdmissionReview response: %v: %s", err, rec.Body.Bytes())
			}
		}
	})
}

// wrap puts raw bytes as the object of a Pod CREATE review in team-a.
func wrap(obj []byte) []byte {
	if !json.Valid(obj) {
		obj, _ = json.Marshal(string(obj)) // keep the review itself valid JSON
	}
	return []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"version":"v1","kind":"Pod"},"resource":{"version":"v1","resource":"pods"},"namespace":"team-a","operation":"CREATE","object":` + string(obj) + `}}`)
}
