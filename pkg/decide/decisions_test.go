package decide_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

var podResource = metav1.GroupVersionResource{Version: "v1", Resource: "pods"}

// reviewOf is reviewBytes with every field a test may vary.
type reviewOf struct {
	op          admissionv1.Operation
	resource    metav1.GroupVersionResource
	subResource string
	namespace   string
	obj         runtime.Object
	dryRun      bool
}

func (r reviewOf) bytes(t *testing.T) []byte {
	t.Helper()
	if r.op == "" {
		r.op = admissionv1.Create
	}
	if r.resource == (metav1.GroupVersionResource{}) {
		r.resource = podResource
	}
	if r.obj == nil {
		r.obj = reviewtest.WorkspacePod(reviewtest.Shape{})
	}
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(reviewBytes(t, r.op, r.obj, r.dryRun), &ar); err != nil {
		t.Fatal(err)
	}
	ar.Request.Resource = r.resource
	ar.Request.SubResource = r.subResource
	ar.Request.Namespace = r.namespace
	b, err := json.Marshal(ar)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureWith serves h (its Metrics and Events replaced by the fixture's) as serve registers it:
// pkg/review's Handler behind its Edge.
func fixtureWith(t *testing.T, h decide.Decider) *fixture {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, "test")
	if err != nil {
		t.Fatal(err)
	}
	ev := &fakeEvents{}
	h.Options, h.Metrics, h.Events, h.Log = mutate.DefaultOptions(), m, ev, logr.Discard()
	if h.ConfigMaps == nil {
		h.ConfigMaps = mutate.AllExist{}
	}
	if h.Namespaces == nil {
		h.Namespaces = fakeNamespaces{}
	}
	// A minute, not the 10 s default: these tests are about decisions, and a 1 MiB body under -race
	// on a busy 2-core machine has taken 11 s (the deadline itself is pkg/review's edge to test).
	srv := httptest.NewServer(review.NewEdge(review.New(&h), review.EdgeOptions{Timeout: time.Minute}))
	t.Cleanup(srv.Close)
	return &fixture{server: srv, reg: reg, metrics: m, events: ev}
}

// Every request that is not a CREATE of the pods resource itself is allowed untouched, even
// when its object is a workspace Pod that would otherwise be injected.
func TestOnlyPodCreateIsMutated(t *testing.T) {
	f := fixtureWith(t, decide.Decider{})
	cases := map[string]reviewOf{
		"another resource":        {resource: metav1.GroupVersionResource{Version: "v1", Resource: "configmaps"}},
		"pods of another group":   {resource: metav1.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "pods"}},
		"pods of another version": {resource: metav1.GroupVersionResource{Version: "v2", Resource: "pods"}},
		"pods/status CREATE":      {subResource: "status"},
		"pods/eviction CREATE":    {subResource: "eviction"},
		"pods/status UPDATE":      {op: admissionv1.Update, subResource: "status"},
		"UPDATE":                  {op: admissionv1.Update},
		"DELETE":                  {op: admissionv1.Delete},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			c.namespace = "team-a"
			code, resp := f.post(t, c.bytes(t), "application/json")
			if code != http.StatusOK || !resp.Allowed || len(resp.Patch) != 0 || resp.PatchType != nil || len(resp.Warnings) != 0 {
				t.Fatalf("code=%d allowed=%v patch=%s warnings=%q", code, resp.Allowed, resp.Patch, resp.Warnings)
			}
		})
	}
	if v := f.reviews("skipped", decide.ReasonNotPodCreate); v != float64(len(cases)) {
		t.Fatalf("reviews{skipped,not_pod_create} = %v, want %d", v, len(cases))
	}
	if v := f.totalSeries(t, "tiltlib_admission_reviews_total"); v != float64(len(cases)) {
		t.Fatalf("reviews total = %v: another reason moved", v)
	}
	// The control: the same Pod as a plain Pod CREATE is injected.
	if _, resp := f.post(t, reviewOf{namespace: "team-a"}.bytes(t), "application/json"); len(resp.Patch) == 0 {
		t.Fatal("the control Pod CREATE was not injected")
	}
}

// Dry-run requests leave no trace on any path, not only the mutation.
func TestDryRunMovesNoMetricOnAnyPath(t *testing.T) {
	f := fixtureWith(t, decide.Decider{Selector: labels.SelectorFromSet(labels.Set{"app.kubernetes.io/name": "coder-workspace"})})
	stranger := reviewtest.WorkspacePod(reviewtest.Shape{})
	stranger.Labels = nil
	svc := &corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}}
	for name, c := range map[string]reviewOf{
		"ignored (UPDATE)":    {op: admissionv1.Update, namespace: "team-a", dryRun: true},
		"decode error":        {obj: svc, namespace: "team-a", dryRun: true},
		"not selected":        {obj: stranger, namespace: "team-a", dryRun: true},
		"invalid namespace":   {namespace: "Team_A", dryRun: true},
		"injected (the core)": {namespace: "team-a", dryRun: true},
	} {
		t.Run(name, func(t *testing.T) {
			f.post(t, c.bytes(t), "application/json")
			if v := f.totalSeries(t, "tiltlib_admission_reviews_total"); v != 0 {
				t.Fatalf("dry-run moved tiltlib_admission_reviews_total by %v", v)
			}
		})
	}
	if len(f.events.findings) != 0 {
		t.Fatalf("dry-run emitted events: %+v", f.events.findings)
	}
	// The control: the same requests without dry-run are counted.
	f.post(t, reviewOf{op: admissionv1.Update, namespace: "team-a"}.bytes(t), "application/json")
	f.post(t, reviewOf{obj: svc, namespace: "team-a"}.bytes(t), "application/json")
	f.post(t, reviewOf{obj: stranger, namespace: "team-a"}.bytes(t), "application/json")
	f.post(t, reviewOf{namespace: "Team_A"}.bytes(t), "application/json")
	if v := f.totalSeries(t, "tiltlib_admission_reviews_total"); v != 4 {
		t.Fatalf("without dry-run: reviews total = %v, want 4", v)
	}
}

func TestWorkspaceSelector(t *testing.T) {
	sel, err := labels.Parse("app.kubernetes.io/name=coder-workspace")
	if err != nil {
		t.Fatal(err)
	}
	nginx := reviewtest.WorkspacePod(reviewtest.Shape{})
	nginx.Labels = map[string]string{"app": "nginx"}

	f := fixtureWith(t, decide.Decider{Selector: sel})
	code, resp := f.post(t, reviewOf{obj: nginx, namespace: "team-a"}.bytes(t), "application/json")
	if code != http.StatusOK || !resp.Allowed || len(resp.Patch) != 0 || resp.PatchType != nil || len(resp.Warnings) != 0 {
		t.Fatalf("not selected: code=%d allowed=%v patch=%s warnings=%q", code, resp.Allowed, resp.Patch, resp.Warnings)
	}
	if want := "not a workspace Pod (--workspace-selector app.kubernetes.io/name=coder-workspace); nothing to do"; resp.Result == nil || resp.Result.Message != want {
		t.Fatalf("result = %+v, want message %q", resp.Result, want)
	}
	if v := f.reviews("skipped", decide.ReasonNotSelected); v != 1 || f.totalSeries(t, "tiltlib_admission_reviews_total") != 1 {
		t.Fatalf("reviews{skipped,not_selected} = %v", v)
	}
	if len(f.events.findings) != 0 || f.totalSeries(t, "tiltlib_injections_total") != 0 {
		t.Fatalf("a Pod that is not a workspace left traces: events=%v", f.events.findings)
	}
	if _, resp := f.post(t, reviewOf{namespace: "team-a"}.bytes(t), "application/json"); len(resp.Patch) == 0 {
		t.Fatal("a matching workspace Pod was not injected")
	}

	// A nil Selector selects every Pod (the decision for callers that do not filter).
	all := fixtureWith(t, decide.Decider{})
	if _, resp := all.post(t, reviewOf{obj: nginx, namespace: "team-a"}.bytes(t), "application/json"); len(resp.Patch) == 0 {
		t.Fatal("nil Selector: the Pod was not injected")
	}
}

func TestNamespaceMustBeADNS1123Label(t *testing.T) {
	f := fixtureWith(t, decide.Decider{})
	for _, ns := range []string{"", "Team-A", "team_a", "team.a", "-team", strings.Repeat("a", 64), "team-a\n", strings.Repeat("x", 1<<20)} {
		code, resp := f.post(t, reviewOf{namespace: ns}.bytes(t), "application/json")
		if code != http.StatusBadRequest || resp.Allowed || !strings.Contains(resp.Result.Message, "is not a DNS-1123 label") {
			t.Fatalf("namespace %.80q: code=%d allowed=%v result=%+v", ns, code, resp.Allowed, resp.Result)
		}
		// The message quotes the value and stays bounded, whatever the request carried.
		if len(resp.Result.Message) > 2*decide.MaxLogValueBytes+100 || strings.Contains(resp.Result.Message, "\n") {
			t.Fatalf("message of %d bytes: %.120q", len(resp.Result.Message), resp.Result.Message)
		}
	}
	if v := f.reviews("error", decide.ReasonInvalidNamespace); v != 8 {
		t.Fatalf("reviews{error,invalid_namespace} = %v, want 8", v)
	}
	// At the bound: 63 characters is a valid namespace.
	if code, resp := f.post(t, reviewOf{namespace: strings.Repeat("a", 63)}.bytes(t), "application/json"); code != http.StatusOK || len(resp.Patch) == 0 {
		t.Fatalf("63-character namespace: code=%d", code)
	}
}
