package review

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	admissionv1 "k8s.io/api/admission/v1"
	admissionv1beta1 "k8s.io/api/admission/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// failingNamespaces fails every lookup, as a Namespace read that timed out does.
type failingNamespaces struct{}

func (failingNamespaces) NamespaceAnnotations(context.Context, string) (map[string]string, bool, error) {
	return nil, false, errors.New("reading Namespace from the API server: context deadline exceeded")
}

// panicOnce panics on its first lookup and answers from the map afterwards.
type panicOnce struct {
	calls atomic.Int32
	mapNamespaces
}

func (p *panicOnce) NamespaceAnnotations(ctx context.Context, name string) (map[string]string, bool, error) {
	if p.calls.Add(1) == 1 {
		panic("namespace cache exploded")
	}
	return p.mapNamespaces.NamespaceAnnotations(ctx, name)
}

// logLines is a logr sink that keeps every line.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, args)
	}, funcr.Options{})
}

func (l *logLines) containing(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

// failureServer serves d behind the edge, as serve registers it; its journal records the metrics.
func failureServer(t *testing.T, ns decide.Namespaces, synced bool, log logr.Logger) (string, *journal) {
	t.Helper()
	j := &journal{}
	d := &decide.Decider{Options: mutate.DefaultOptions(), Namespaces: ns, ConfigMaps: mutate.AllExist{},
		Metrics: j, Events: j, Log: log, Synced: func() bool { return synced }}
	srv := served(t, NewEdge(New(d), EdgeOptions{Rejected: func(r mutate.Reason) { j.Error(r) }, Log: log}))
	return srv.URL + Path, j
}

func postRaw(t *testing.T, url, contentType string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// TestNoDecisionIsAFailedCall: every answer that is not a decision (the three internal failures of
// issue 17 and every malformed request) is an HTTP error status with a v1 Status saying why, never
// an AdmissionReview: the API server takes an AdmissionReview that does not allow the Pod as a
// denial whatever the failurePolicy, and a failed call as a failed call (failurePolicy decides).
func TestNoDecisionIsAFailedCall(t *testing.T) {
	ws := reviewOf(t, v1, "team-a", reviewtest.WorkspacePod(reviewtest.Shape{Name: "ws"}), false)
	service := reviewRaw(t, v1, "team-a", []byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"}}`), false)
	badPod := reviewRaw(t, v1, "team-a", []byte(`{"apiVersion":"v1","kind":"Pod","spec":{"containers":"dev"}}`), false)
	for _, c := range []struct {
		name        string
		ns          decide.Namespaces
		unsynced    bool
		contentType string
		body        []byte
		code        int
		msg         string
		reason      mutate.Reason // "" when the request is refused before the decision, uncounted
	}{
		{"caches not synced", defaultEnv().namespaces, true, "application/json", ws, http.StatusServiceUnavailable, "caches not synced", decide.ReasonNotReady},
		{"not a Pod", defaultEnv().namespaces, false, "application/json", service, http.StatusBadRequest, "not a decodable v1 Pod", decide.ReasonDecode},
		{"undecodable Pod", defaultEnv().namespaces, false, "application/json", badPod, http.StatusBadRequest, "not a decodable v1 Pod", decide.ReasonDecode},
		{"namespace lookup fails", failingNamespaces{}, false, "application/json", ws, http.StatusInternalServerError, "reading Namespace team-a: reading Namespace from the API server: context deadline exceeded", decide.ReasonCacheError},
		{"invalid namespace", defaultEnv().namespaces, false, "application/json", bytes.Replace(ws, []byte(`"team-a"`), []byte(`"Team A"`), 1), http.StatusBadRequest, "is not a DNS-1123 label", decide.ReasonInvalidNamespace},
		{"wrong content type", defaultEnv().namespaces, false, "text/plain", ws, http.StatusBadRequest, "contentType=text/plain", ""},
		{"not JSON", defaultEnv().namespaces, false, "application/json", []byte("garbage"), http.StatusBadRequest, "not a JSON object", ""},
		{"empty body", defaultEnv().namespaces, false, "application/json", nil, http.StatusBadRequest, "the request body is empty", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			url, j := failureServer(t, c.ns, !c.unsynced, logr.Discard())
			code, h, b := postRaw(t, url, c.contentType, c.body)
			st := mustStatus(t, b)
			if code != c.code || int(st.Code) != c.code || h.Get("Content-Type") != "application/json" || h.Get("Retry-After") != "" {
				t.Fatalf("HTTP %d (%s, Retry-After %q), Status code %d; want %d, application/json, no Retry-After: %s",
					code, h.Get("Content-Type"), h.Get("Retry-After"), st.Code, c.code, b)
			}
			if !strings.HasPrefix(st.Message, "tilt-lib-injector: ") || !strings.Contains(st.Message, c.msg) {
				t.Fatalf("message %q, want tilt-lib-injector: … %q", st.Message, c.msg)
			}
			want := []string(nil)
			if c.reason != "" {
				want = []string{"error " + string(c.reason)}
			}
			if got := j.take(); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("metrics %q, want %q", got, want)
			}
		})
	}
}

// TestFailedCallsReachTheUserVerbatim sends each failed call to the client the API server calls
// webhooks with (client-go's REST client, with the admission codec, as
// k8s.io/apiserver/pkg/util/webhook.ClientManager builds it): the error it returns, which the API
// server wraps as `failed calling webhook "…": failed to call webhook: <error>` and, under
// failurePolicy Fail, hands to the user, carries our message. A plain-text body would not, for
// 503: client-go replaces it with a generic sentence (why failed calls carry a Status).
func TestFailedCallsReachTheUserVerbatim(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := admissionv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := admissionv1beta1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	codec := serializer.NewCodecFactory(scheme).LegacyCodec(admissionv1.SchemeGroupVersion, admissionv1beta1.SchemeGroupVersion)
	client := func(t *testing.T, url string) *rest.RESTClient {
		t.Helper()
		c, err := rest.UnversionedRESTClientFor(&rest.Config{Host: url, ContentConfig: rest.ContentConfig{
			NegotiatedSerializer: serializer.NegotiatedSerializerWrapper(runtime.SerializerInfo{Serializer: codec}),
		}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	call := func(t *testing.T, url string) error {
		t.Helper()
		var ar admissionv1.AdmissionReview
		if err := json.Unmarshal(reviewOf(t, v1, "team-a", reviewtest.WorkspacePod(reviewtest.Shape{Name: "ws"}), false), &ar); err != nil {
			t.Fatal(err)
		}
		return client(t, url).Post().Body(&ar).Do(context.Background()).Into(&admissionv1.AdmissionReview{})
	}
	for _, c := range []struct {
		name     string
		ns       decide.Namespaces
		unsynced bool
		msg      string
	}{
		{"not_ready 503", defaultEnv().namespaces, true, "tilt-lib-injector: caches not synced yet"},
		{"cache_error 500", failingNamespaces{}, false, "tilt-lib-injector: reading Namespace team-a: "},
		{"panic 500", &panicOnce{mapNamespaces: defaultEnv().namespaces}, false, "tilt-lib-injector: internal error (panic: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			url, _ := failureServer(t, c.ns, !c.unsynced, logr.Discard())
			err := call(t, url)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("client-go returned %v, want an error carrying %q", err, c.msg)
			}
		})
	}
	t.Run("plain text 503 loses the message", func(t *testing.T) {
		srv := served(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "tilt-lib-injector: caches not synced yet", http.StatusServiceUnavailable)
		}))
		if err := call(t, srv.URL); err == nil || strings.Contains(err.Error(), "caches not synced") {
			t.Fatalf("client-go returned %v: if it now keeps a plain-text 503 body, the docs' reason for Status bodies is stale", err)
		}
	})
}

// TestPanicIsAFailedCallForThatRequestOnly: a panic in the decision is recovered, answered with a
// failed call (500), counted, and logged with the request's UID; the next request is decided as
// usual by the same server.
func TestPanicIsAFailedCallForThatRequestOnly(t *testing.T) {
	var logs logLines
	url, j := failureServer(t, &panicOnce{mapNamespaces: defaultEnv().namespaces}, true, logs.logger())
	body := reviewOf(t, v1, "team-a", reviewtest.WorkspacePod(reviewtest.Shape{Name: "ws"}), false)
	var uid struct {
		Request struct {
			UID string `json:"uid"`
		} `json:"request"`
	}
	if err := json.Unmarshal(body, &uid); err != nil || uid.Request.UID == "" {
		t.Fatalf("no uid in the review: %v", err)
	}

	code, _, b := postRaw(t, url, "application/json", body)
	if st := mustStatus(t, b); code != http.StatusInternalServerError || !strings.Contains(st.Message, "namespace cache exploded") {
		t.Fatalf("a panic was answered HTTP %d: %s", code, b)
	}
	if got := j.take(); strings.Join(got, ",") != "error "+string(ReasonPanic) {
		t.Fatalf("metrics %q, want one error %s", got, ReasonPanic)
	}
	if lines := logs.containing(`"uid"="` + uid.Request.UID + `"`); len(lines) != 1 || !strings.Contains(lines[0], "recovered a panic") {
		t.Fatalf("log lines with the uid: %q", lines)
	}

	code, _, b = postRaw(t, url, "application/json", body)
	if r := mustReview(t, b).Response; code != http.StatusOK || !r.Allowed || len(r.Patch) == 0 {
		t.Fatalf("the request after the panic: HTTP %d %s", code, b)
	}
}

// TestEdgePanicIsAFailedCall: a panic in the edge's own part (before Handler) is recovered the
// same way, counted through Rejected, and the edge keeps serving.
func TestEdgePanicIsAFailedCall(t *testing.T) {
	var calls atomic.Int32
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			panic("edge exploded")
		}
		w.WriteHeader(http.StatusOK)
	})
	r := newReasons()
	var logs logLines
	srv := served(t, NewEdge(next, EdgeOptions{Rejected: r.add, Log: logs.logger()}))
	code, _, b := postRaw(t, srv.URL, "application/json", []byte(`{}`))
	if st := mustStatus(t, b); code != http.StatusInternalServerError || !strings.Contains(st.Message, "[recovered]") {
		t.Fatalf("a panic in the edge was answered HTTP %d: %s", code, b)
	}
	if got := r.wait(t); got != ReasonPanic {
		t.Fatalf("reported %q, want %q", got, ReasonPanic)
	}
	if len(logs.containing("edge exploded")) != 1 {
		t.Fatalf("the panic was not logged: %q", logs.lines)
	}
	if code, _, _ := postRaw(t, srv.URL, "application/json", []byte(`{}`)); code != http.StatusOK {
		t.Fatalf("the request after the panic: HTTP %d", code)
	}
}
