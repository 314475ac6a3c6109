package handler

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// The success path logs at V(1) only; findings log at Info with one key per value (no duplicate
// keys, which JSON log parsers would collapse).
func TestLogLevelsAndKeys(t *testing.T) {
	for _, c := range []struct {
		name    string
		nsAnn   map[string]string
		verbose int
		want    string // "" = nothing logged
	}{
		{"clean injection, info level", nil, 0, ""},
		{"clean injection, debug level", nil, 1, "admitted"},
		{"fallback, info level", map[string]string{"tilt-lib.platform/version": "v9", "tilt-lib.platform/templates-version": "v9"}, 0, "admitted with findings"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var lines []string
			log := funcr.NewJSON(func(obj string) { lines = append(lines, obj) }, funcr.Options{Verbosity: c.verbose})
			m, _ := metrics.New(prometheus.NewRegistry(), "t")
			h := New(Handler{Options: mutate.DefaultOptions(), Namespaces: fakeNamespaces{ann: map[string]map[string]string{"team-a": c.nsAnn}},
				ConfigMaps: mutate.MapLookup{"team-a/tilt-lib": "1.4.0", "team-a/tilt-templates": "1.1.0"}, Metrics: m, Events: &fakeEvents{}, Log: log})
			var req admission.Request
			if err := json.Unmarshal(review(t, admissionv1.Create, workspacePod(), false), &admissionv1.AdmissionReview{Request: &req.AdmissionRequest}); err != nil {
				t.Fatal(err)
			}
			h.Handle(context.Background(), req)
			if c.want == "" {
				if len(lines) != 0 {
					t.Fatalf("logged at info level: %v", lines)
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("lines = %v", lines)
			}
			var entry map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil {
				t.Fatal(err)
			}
			if entry["msg"] != c.want || entry["namespace"] != "team-a" || entry["pod"] != "coder-ws-" {
				t.Fatalf("entry = %v", entry)
			}
			for _, k := range []string{"configMap", "version", "source", "templatesConfigMap", "templatesVersion", "templatesSource", "reason"} {
				if _, ok := entry[k]; !ok {
					t.Errorf("key %q missing in %s", k, lines[0])
				}
			}
			if strings.Count(lines[0], `"source"`) != 1 {
				t.Errorf("duplicate source key: %s", lines[0])
			}
		})
	}
}
