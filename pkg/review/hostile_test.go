package review

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// Issue 23: what anyone who reaches the webhook port can hold open, and what it may cost.
const (
	hostilePerKind = 64 / 3 // 21 of each kind, plus one more header-only: 64 connections
	maxHeapGrowth  = 32 << 20
	realReviews    = 20
)

// TestHostileConnectionsDoNotStarveReviews holds 64 hostile connections open against the
// handler stack serve runs (Edge, then Handler, instrumented like controller-runtime's webhook
// server, over loopback TLS): header-only with a huge Content-Length, slow trickles, and
// full-size bodies short of their last byte. Meanwhile real 6 KB reviews must all be answered
// (injected; never 429 or 503) and the live heap, after GC, must grow by less than 32 MiB.
// Attackers reconnect whenever the server answers or cuts them, so 64 stay open throughout.
func TestHostileConnectionsDoNotStarveReviews(t *testing.T) {
	if testing.Short() {
		t.Skip("holds 64 connections and measures the heap")
	}
	if raceEnabled {
		// `make unit` runs it in its second, race-free line: under -race the 64 connections
		// take a minute of two cores, and full bodies miss the body deadline for CPU.
		t.Skip("measured without -race")
	}
	r := hostile(t)
	t.Logf("64 hostile connections (%d header-only, %d trickle, %d full-body, each announcing %d bytes): %s",
		hostilePerKind+1, hostilePerKind, hostilePerKind, MaxBodyBytes-1, describe(r.attackers))
	t.Logf("real reviews: %v; live heap %.1f MiB before, %.1f MiB held, peak %.1f MiB: growth %.1f MiB (goal < %d MiB)",
		r.outcomes, mib(r.base), mib(r.held), mib(r.peak), r.growthMiB(), maxHeapGrowth>>20)
	if len(r.outcomes) != 1 || r.outcomes["injected"] == 0 {
		t.Errorf("real reviews were answered %v, want every one injected", r.outcomes)
	}
	if r.growthMiB() >= maxHeapGrowth>>20 {
		t.Errorf("live heap grew by %.1f MiB while the hostile connections were held, want < %d MiB", r.growthMiB(), maxHeapGrowth>>20)
	}
}

// BenchmarkHostileConnections is the same attack, reported for docs/benchmarks.md: real reviews
// not injected, and the live heap's growth. Run with -benchtime 1x: one iteration is one attack.
func BenchmarkHostileConnections(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r := hostile(b)
		failed := 0
		for code, n := range r.outcomes {
			if code != "injected" {
				failed += n
			}
		}
		b.ReportMetric(float64(failed), "failed-reviews")
		b.ReportMetric(float64(r.outcomes["injected"]), "injected-reviews")
		b.ReportMetric(r.growthMiB(), "heap-growth-MiB")
	}
}

type hostileRun struct {
	attackers        []*reviewtest.Attacker
	outcomes         map[string]int
	base, held, peak uint64
}

func (r hostileRun) growthMiB() float64 { return float64(int64(r.peak)-int64(r.base)) / (1 << 20) }

// hostile runs the attack: serve's stack with its defaults, one real review to warm it, 64
// attackers held, then real reviews until every attacker has been answered or cut at least once
// and has come back (so the deadlines have acted), and at least realReviews were sent. The live
// heap is read after each review.
func hostile(tb testing.TB) hostileRun {
	tb.Helper()
	srv, reads := servedTLS(tb, NewEdge(New(quietDecider()), EdgeOptions{}))
	client := srv.Client()
	client.Timeout = 10 * time.Second // the longest the API server would wait (timeoutSeconds ≤ 30)
	body := reviewOf(tb, v1, "team-a", reviewtest.WorkspacePod(reviewtest.Ladder[1].Shape), false)
	if code, answer := postReview(client, srv.URL, body); code != "injected" {
		tb.Fatalf("before the attack: %s %s", code, answer)
	}
	r := hostileRun{outcomes: map[string]int{}, base: liveHeap()}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		kind := reviewtest.Hostile(i % 3)
		if i == 63 {
			kind = reviewtest.HeaderOnly
		}
		// Each announces the largest body the server would read.
		a := &reviewtest.Attacker{Kind: kind, Addr: srv.Listener.Addr().String(), TLS: client.Transport.(*http.Transport).TLSClientConfig,
			BodyBytes: MaxBodyBytes - 1, Settle: reads.settle}
		r.attackers = append(r.attackers, a)
		wg.Add(1)
		go func() { defer wg.Done(); a.Run(ctx) }()
	}
	defer func() {
		cancel()
		wg.Wait()
	}()
	deadline := time.After(2 * time.Minute)
	for i, a := range r.attackers {
		select {
		case <-a.Held():
		case <-deadline:
			tb.Fatalf("only %d of 64 hostile connections were ever held", i)
		}
	}
	for _, a := range r.attackers {
		if s := a.Statuses(); s["dial"]+s["tls"] > 0 {
			tb.Fatalf("the %s attack did not connect: %v", a.Kind, s)
		}
	}

	r.held = liveHeap()
	r.peak = r.held
	reconnected := func() bool {
		for _, a := range r.attackers {
			if a.Opened() < 2 {
				return false
			}
		}
		return true
	}
	for n := 0; n < realReviews || !reconnected(); n++ {
		select {
		case <-deadline:
			tb.Fatalf("after %d real reviews, not every attacker has reconnected: %s", n, describe(r.attackers))
		default:
		}
		code, answer := postReview(client, srv.URL, body)
		r.outcomes[code]++
		if code != "injected" && r.outcomes[code] <= 3 {
			tb.Logf("real review %d: %s %s", n, code, answer)
		}
		if h := liveHeap(); h > r.peak {
			r.peak = h
			if f := os.Getenv("HOSTILE_HEAP_PROFILE"); f != "" {
				writeHeapProfile(tb, f)
			}
		}
	}
	return r
}

// quietDecider decides with the differential tests' environment and records nothing.
func quietDecider() *decide.Decider {
	e := defaultEnv()
	return &decide.Decider{Options: mutate.DefaultOptions(), Namespaces: e.namespaces, ConfigMaps: e.configMaps,
		Metrics: noMetrics{}, Events: noEvents{}, Log: logr.Discard(), Synced: func() bool { return true }}
}

type noMetrics struct{}

func (noMetrics) Observe(mutate.Result) {}
func (noMetrics) Error(mutate.Reason)   {}
func (noMetrics) Skipped(mutate.Reason) {}

// postReview sends one review and says how it was answered: "injected" (200, allowed, with a
// patch), "HTTP <code>", "review <code>" (an AdmissionReview without a patch), or "error".
func postReview(c *http.Client, url string, body []byte) (outcome string, detail string) {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return "error", err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("HTTP %d", resp.StatusCode), string(b)
	}
	if bytes.Contains(b, []byte(`"allowed":true`)) && bytes.Contains(b, []byte(`"patchType":"JSONPatch"`)) {
		return "injected", ""
	}
	return "review", string(b)
}

func writeHeapProfile(t testing.TB, file string) {
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := pprof.Lookup("heap").WriteTo(out, 0); err != nil {
		t.Fatal(err)
	}
}

// liveHeap is the heap the garbage collector found live: what the last of two full collections
// marked (runtime/metrics' /gc/heap/live:bytes), not what was allocated since.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC() // the second one frees what the first one's finalizers released
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func describe(as []*reviewtest.Attacker) string {
	type sum struct {
		opened   int64
		statuses map[string]int
	}
	by := map[reviewtest.Hostile]*sum{}
	for _, a := range as {
		s := by[a.Kind]
		if s == nil {
			s = &sum{statuses: map[string]int{}}
			by[a.Kind] = s
		}
		s.opened += a.Opened()
		for k, v := range a.Statuses() {
			s.statuses[k] += v
		}
	}
	var parts []string
	for _, k := range []reviewtest.Hostile{reviewtest.HeaderOnly, reviewtest.Trickle, reviewtest.FullBody} {
		if s := by[k]; s != nil {
			keys := make([]string, 0, len(s.statuses))
			for c := range s.statuses {
				keys = append(keys, c)
			}
			sort.Strings(keys)
			var ended []string
			for _, c := range keys {
				ended = append(ended, fmt.Sprintf("%s×%d", c, s.statuses[c]))
			}
			parts = append(parts, fmt.Sprintf("%s: %d connections, ended %s", k, s.opened, strings.Join(ended, " ")))
		}
	}
	return strings.Join(parts, "; ")
}
