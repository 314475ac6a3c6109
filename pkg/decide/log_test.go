package decide_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// decideCreate runs h's decision on a CREATE of pod in team-a, as both admission paths hand it
// over.
func decideCreate(h *decide.Decider, pod *corev1.Pod) decide.Answer {
	return h.Decide(context.Background(), decide.Request{
		UID: "0b1c2d3e", Operation: admissionv1.Create, Resource: podResource, Namespace: "team-a",
		Pod: func() (*corev1.Pod, error) { return pod, nil },
	})
}

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
			h := &decide.Decider{Options: mutate.DefaultOptions(), Namespaces: fakeNamespaces{ann: map[string]map[string]string{"team-a": c.nsAnn}},
				ConfigMaps: mutate.MapLookup{"team-a/tilt-lib": "1.4.0", "team-a/tilt-templates": "1.1.0"}, Metrics: m, Events: &fakeEvents{}, Log: log}
			decideCreate(h, reviewtest.WorkspacePod(reviewtest.Shape{}))
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
			if entry["msg"] != c.want || entry["namespace"] != "team-a" || entry["pod"] != "coder-jdoe-myws-6c9d7f8b5d-" {
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

// A hostile generateName reaches every log line quoted and bounded: the admission result and
// the not-selected line.
func TestHostilePodNameIsLoggedQuotedAndTruncated(t *testing.T) {
	for name, sel := range map[string]labels.Selector{"admitted": nil, "not selected": labels.SelectorFromSet(labels.Set{"app": "coder"})} {
		t.Run(name, func(t *testing.T) { hostileName(t, sel) })
	}
}

func hostileName(t *testing.T, sel labels.Selector) {
	var lines []string
	log := funcr.NewJSON(func(obj string) { lines = append(lines, obj) }, funcr.Options{Verbosity: 1})
	m, _ := metrics.New(prometheus.NewRegistry(), "t")
	h := &decide.Decider{Options: mutate.DefaultOptions(), Namespaces: fakeNamespaces{ann: map[string]map[string]string{"team-a": nil}},
		ConfigMaps: mutate.AllExist{}, Metrics: m, Events: &fakeEvents{}, Log: log, Selector: sel}
	pod := reviewtest.WorkspacePod(reviewtest.Shape{})
	pod.GenerateName = "ws-\n" + strings.Repeat("x", 1<<20)
	decideCreate(h, pod)
	if len(lines) != 1 {
		t.Fatalf("lines = %d", len(lines))
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil {
		t.Fatal(err)
	}
	got, _ := entry["pod"].(string)
	if !strings.HasPrefix(got, `"ws-\nxxx`) || !strings.HasSuffix(got, `…(+1048327 bytes)"`) || !utf8.ValidString(got) || len(got) > decide.MaxLogValueBytes+30 {
		t.Fatalf("pod = %.300q (%d bytes)", got, len(got))
	}
}
