package handler

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

func TestLogValue(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes, two per rune
	for _, c := range []struct{ in, want string }{
		{"coder-ws-", "coder-ws-"},
		{strings.Repeat("a", maxLogValue), strings.Repeat("a", maxLogValue)}, // at the bound: untouched
		{strings.Repeat("a", maxLogValue+1), `"` + strings.Repeat("a", maxLogValue) + `…(+1 bytes)"`},
		{long, `"` + strings.Repeat("é", 126) + `…(+148 bytes)"`}, // 252 bytes: the rune at 252-253 is not split
		{"ws-\nlevel=error msg=forged", `"ws-\nlevel=error msg=forged"`},
		{`ws" pod="other`, `"ws\" pod=\"other"`},
		{`ws"`, `"ws\""`},
		{`ws\`, `"ws\\"`},
		{"ws\u00a0x", `"ws\u00a0x"`}, // a non-breaking space looks like a separator
		{"bad\xffbyte", `"bad\xffbyte"`},
		{"", ""},
	} {
		if got := logValue(c.in); got != c.want {
			t.Errorf("logValue(%.40q) = %.80q, want %.80q", c.in, got, c.want)
		}
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
	h := New(Handler{Options: mutate.DefaultOptions(), Namespaces: fakeNamespaces{ann: map[string]map[string]string{"team-a": nil}},
		ConfigMaps: mutate.AllExist{}, Metrics: m, Events: &fakeEvents{}, Log: log, Selector: sel})
	pod := workspacePod()
	pod.GenerateName = "ws-\n" + strings.Repeat("x", 1<<20)
	var req admission.Request
	if err := json.Unmarshal(review(t, admissionv1.Create, pod, false), &admissionv1.AdmissionReview{Request: &req.AdmissionRequest}); err != nil {
		t.Fatal(err)
	}
	h.Handle(context.Background(), req)
	if len(lines) != 1 {
		t.Fatalf("lines = %d", len(lines))
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil {
		t.Fatal(err)
	}
	got, _ := entry["pod"].(string)
	if !strings.HasPrefix(got, `"ws-\nxxx`) || !strings.HasSuffix(got, `…(+1048327 bytes)"`) || !utf8.ValidString(got) || len(got) > maxLogValue+30 {
		t.Fatalf("pod = %.300q (%d bytes)", got, len(got))
	}
}
