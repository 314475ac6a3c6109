package review

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	jsonpatch5 "github.com/evanphx/json-patch/v5"
	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
	"github.com/platform-tools/tilt-lib-injector/pkg/versions"
)

// discard is a ResponseWriter that keeps the last response, reused across iterations so the
// benchmark measures the handler, not the harness.
type discard struct {
	header http.Header
	body   bytes.Buffer
}

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(b []byte) (int, error) { return d.body.Write(b) }

// replay serves body to h again and again through one reused request.
type replay struct {
	r    *http.Request
	body *bytes.Reader
	w    *discard
}

func newReplay(body []byte) *replay {
	rd := bytes.NewReader(body)
	r, _ := http.NewRequest(http.MethodPost, Path, io.NopCloser(rd))
	r.Header.Set("Content-Type", "application/json")
	r.ContentLength = int64(len(body))
	return &replay{r: r, body: rd, w: &discard{header: http.Header{}}}
}

func (p *replay) serve(h http.Handler, body []byte) []byte {
	p.body.Reset(body)
	p.w.body.Reset()
	h.ServeHTTP(p.w, p.r)
	return p.w.body.Bytes()
}

type noEvents struct{}

func (noEvents) Emit(string, []mutate.Finding) {}

// arms are the four webhooks compared, each with real metrics.
func arms(b *testing.B, e env) map[string]http.Handler {
	m, err := metrics.New(prometheus.NewRegistry(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	// As serve runs with the chart: a live versions document (empty, no rollout), read once per review.
	live := versions.NewLive(mutate.DefaultOptions())
	if _, err := live.Apply([]byte("aliases: {}\nrollouts: []\n"), true); err != nil {
		b.Fatal(err)
	}
	h := func() *decide.Decider {
		return &decide.Decider{Options: mutate.DefaultOptions(), Namespaces: e.namespaces, ConfigMaps: e.configMaps,
			Metrics: m, Events: noEvents{}, Log: logr.Discard(), Versions: live}
	}
	return map[string]http.Handler{
		"empty": &admission.Webhook{Handler: admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
			return admission.Allowed("")
		})},
		"naive": &admission.Webhook{Handler: reviewtest.NewNaive(mutate.DefaultOptions(), e.namespaces, e.configMaps)},
		"old":   &admission.Webhook{Handler: reviewtest.ControllerRuntime(h())},
		"new":   New(h()),
	}
}

// BenchmarkReview is one review, body bytes in, response bytes out, per arm and size: the empty
// controller-runtime webhook (admission.Allowed("")), the naive kubebuilder-style webhook
// (marshal and diff), the old path (controller-runtime's admission.Webhook over
// reviewtest.ControllerRuntime) and the new one (Handler).
func BenchmarkReview(b *testing.B) {
	e := defaultEnv()
	a := arms(b, e)
	for _, size := range reviewtest.Ladder {
		body := reviewOf(b, v1, "team-a", reviewtest.WorkspacePod(size.Shape), false)
		if kb := len(body) / 1000; kb < size.MinKB || kb > size.MaxKB {
			b.Fatalf("%s review is %d bytes, want %d..%d KB", size.Name, len(body), size.MinKB, size.MaxKB)
		}
		checkArms(b, a, body)
		for _, arm := range []string{"empty", "naive", "old", "new"} {
			b.Run(size.Name+"/"+arm, func(b *testing.B) {
				p := newReplay(body)
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					p.serve(a[arm], body)
				}
			})
		}
	}
}

// checkArms makes sure the arms do the jobs they stand for: old and new answer the same bytes,
// naive's patch gives the same Pod as theirs, empty admits.
func checkArms(b *testing.B, a map[string]http.Handler, body []byte) {
	b.Helper()
	out := map[string]admissionv1.AdmissionReview{}
	raw := map[string][]byte{}
	for name, h := range a {
		raw[name] = bytes.Clone(newReplay(body).serve(h, body))
		out[name] = mustReview(b, raw[name])
		if !out[name].Response.Allowed {
			b.Fatalf("%s did not admit: %s", name, raw[name])
		}
	}
	if !bytes.Equal(raw["old"], raw["new"]) {
		b.Fatalf("old and new paths answer differently:\n%s\n%s", raw["old"], raw["new"])
	}
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &ar); err != nil {
		b.Fatal(err)
	}
	pod := ar.Request.Object.Raw
	apply := func(name string) []byte {
		p, err := jsonpatch5.DecodePatch(out[name].Response.Patch)
		if err != nil {
			b.Fatalf("%s patch: %v", name, err)
		}
		got, err := p.Apply(pod)
		if err != nil {
			b.Fatalf("%s patch: %v", name, err)
		}
		return got
	}
	if viaNew, viaNaive := apply("new"), apply("naive"); !jsonpatch5.Equal(viaNew, viaNaive) {
		b.Fatalf("naive and new patches give different Pods:\n%s\n%s", viaNew, viaNaive)
	}
}
