package review

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
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
	// hostileBody is the Content-Length the reviewer's attack announced: just under the 7 MiB
	// limit controller-runtime (and this package, before) accepted.
	hostileBody = 7<<20 - 1
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
	srv, reads := servedTLS(t, NewEdge(New(quietDecider()), EdgeOptions{}))
	client := srv.Client()
	client.Timeout = 10 * time.Second // the longest the API server would wait (timeoutSeconds ≤ 30)
	body := reviewOf(t, v1, "team-a", reviewtest.WorkspacePod(reviewtest.Ladder[1].Shape), false)
	if code, answer := postReview(client, srv.URL, body); code != "injected" {
		t.Fatalf("before the attack: %s %s", code, answer)
	}
	base := liveHeap()

	ctx, cancel := context.WithCancel(context.Background())
	var attackers []*reviewtest.Attacker
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		kind := reviewtest.Hostile(i % 3)
		if i == 63 {
			kind = reviewtest.HeaderOnly
		}
		a := &reviewtest.Attacker{Kind: kind, Addr: srv.Listener.Addr().String(), TLS: client.Transport.(*http.Transport).TLSClientConfig,
			BodyBytes: hostileBody, Settle: reads.settle}
		if kind == reviewtest.FullBody {
			a.BodyBytes = MaxBodyBytes - 1 // the largest body the server would read
		}
		attackers = append(attackers, a)
		wg.Add(1)
		go func() { defer wg.Done(); a.Run(ctx) }()
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			wg.Wait()
		}
	}
	t.Cleanup(stop)
	deadline := time.After(time.Minute)
	for i, a := range attackers {
		select {
		case <-a.Held():
		case <-deadline:
			t.Fatalf("only %d of 64 hostile connections were ever held", i)
		}
	}

	held := liveHeap()
	peak := held
	outcomes := map[string]int{}
	for i := 0; i < realReviews; i++ {
		code, answer := postReview(client, srv.URL, body)
		outcomes[code]++
		if code != "injected" {
			t.Logf("real review %d: %s %s", i, code, answer)
		}
		peak = max(peak, liveHeap())
	}
	stop()

	growth := int64(peak) - int64(base)
	t.Logf("64 hostile connections (%d header-only, %d trickle, %d full-body of %d bytes): %s",
		hostilePerKind+1, hostilePerKind, hostilePerKind, MaxBodyBytes-1, describe(attackers))
	t.Logf("real reviews: %v; live heap %.1f MiB before, %.1f MiB held, peak %.1f MiB: growth %.1f MiB (goal < %d MiB)",
		outcomes, mib(base), mib(held), mib(peak), float64(growth)/(1<<20), maxHeapGrowth>>20)
	for _, a := range attackers {
		if s := a.Statuses(); s["dial"]+s["tls"] > 0 {
			t.Fatalf("the %s attack did not connect: %v", a.Kind, s)
		}
	}
	if outcomes["injected"] != realReviews {
		t.Errorf("%d of %d real reviews were answered with an injection: %v", outcomes["injected"], realReviews, outcomes)
	}
	if growth >= maxHeapGrowth {
		t.Errorf("live heap grew by %.1f MiB while the hostile connections were held, want < %d MiB", float64(growth)/(1<<20), maxHeapGrowth>>20)
	}
}

// quietDecider decides with the differential tests' environment and records nothing.
func quietDecider() *decide.Decider {
	e := defaultEnv()
	return &decide.Decider{Options: mutate.DefaultOptions(), Namespaces: e.namespaces, ConfigMaps: e.configMaps,
		Metrics: noMetrics{}, Events: noEvents{}, Log: logr.Discard(), Synced: func() bool { return true }}
}

type noMetrics struct{}

func (noMetrics) Observe(mutate.Result)  {}
func (noMetrics) Error(mutate.Reason)    {}
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

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC() // the second one frees what the first one's finalizers released
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
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

// servedTLS is served over loopback TLS (HTTP/1.1, as serve runs it), with the bytes the server
// reads from each connection counted, so a test can wait until a client's bytes have arrived.
func servedTLS(t testing.TB, h http.Handler) (*httptest.Server, *readCounter) {
	t.Helper()
	srv := httptest.NewUnstartedServer(instrumented(h))
	srv.Config.ReadHeaderTimeout = 32 * time.Second
	srv.Config.IdleTimeout = 90 * time.Second
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // every cut connection is logged otherwise
	rc := &readCounter{changed: make(chan struct{})}
	srv.Listener = &countingListener{Listener: srv.Listener, rc: rc}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, rc
}

// readCounter holds, per client address, the bytes the server read and whether it closed.
type readCounter struct {
	mu      sync.Mutex
	conns   map[string]*serverConn
	changed chan struct{} // closed and replaced on every change
}

func (rc *readCounter) notify() {
	rc.mu.Lock()
	close(rc.changed)
	rc.changed = make(chan struct{})
	rc.mu.Unlock()
}

// settle returns once the server has read written bytes from the client at local, or closed
// that connection, or ctx is done.
func (rc *readCounter) settle(ctx context.Context, local string, written int64) {
	for {
		rc.mu.Lock()
		c, ch := rc.conns[local], rc.changed
		rc.mu.Unlock()
		if c != nil && (c.read.Load() >= written || c.closed.Load()) {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

type countingListener struct {
	net.Listener
	rc *readCounter
}

func (l *countingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &serverConn{Conn: conn, rc: l.rc}
	l.rc.mu.Lock()
	if l.rc.conns == nil {
		l.rc.conns = map[string]*serverConn{}
	}
	l.rc.conns[conn.RemoteAddr().String()] = c
	l.rc.mu.Unlock()
	l.rc.notify()
	return c, nil
}

type serverConn struct {
	net.Conn
	rc     *readCounter
	read   atomic.Int64
	closed atomic.Bool
}

func (c *serverConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.read.Add(int64(n))
		c.rc.notify()
	}
	return n, err
}

func (c *serverConn) Close() error {
	err := c.Conn.Close()
	if !c.closed.Swap(true) {
		c.rc.notify()
	}
	return err
}
