package review

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// served starts a loopback server configured like controller-runtime's webhook server (only a
// 32 s header timeout, 90 s idle timeout) with h instrumented the way its Register wraps a
// webhook: the ResponseWriter the edge sees is promhttp's delegator, as in production.
func served(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(instrumented(h))
	srv.Config.ReadHeaderTimeout = 32 * time.Second
	srv.Config.IdleTimeout = 90 * time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// instrumented wraps h the way controller-runtime's webhook server's Register does.
func instrumented(h http.Handler) http.Handler {
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "latency"}, []string{"code"})
	cnt := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests"}, []string{"code"})
	inflight := prometheus.NewGauge(prometheus.GaugeOpts{Name: "in_flight"})
	return promhttp.InstrumentHandlerDuration(lat, promhttp.InstrumentHandlerCounter(cnt, promhttp.InstrumentHandlerInFlight(inflight, h)))
}

// reasons collects Options.Rejected calls.
type reasons struct {
	mu  sync.Mutex
	got []mutate.Reason
	ch  chan mutate.Reason
}

func newReasons() *reasons { return &reasons{ch: make(chan mutate.Reason, 1000)} }

func (r *reasons) add(reason mutate.Reason) {
	r.mu.Lock()
	r.got = append(r.got, reason)
	r.mu.Unlock()
	r.ch <- reason
}

// wait returns the next reported reason, failing after 5 s.
func (r *reasons) wait(t *testing.T) mutate.Reason {
	t.Helper()
	select {
	case s := <-r.ch:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no rejection reported")
		return ""
	}
}

func (r *reasons) list() []mutate.Reason {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]mutate.Reason(nil), r.got...)
}

// slowLoris announces the largest AdmissionReview body the edge reads (MaxBodyBytes-1) and then
// sends one byte every `every`. It
// returns how long after its headers the server kept the connection open, the HTTP status line
// if any came back, and whether it gave up (after giveUp) with the connection still open.
func slowLoris(addr string, every, giveUp time.Duration) (held time.Duration, status string, gaveUp bool, err error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, "", false, err
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "POST /mutate-v1-pod HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", MaxBodyBytes-1); err != nil {
		return 0, "", false, err
	}
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	_ = conn.SetReadDeadline(start.Add(giveUp))
	buf := make([]byte, 64)
	n, rerr := io.ReadAtLeast(conn, buf, 12)
	if n >= 12 {
		status = string(buf[9:12])
		_, rerr = io.Copy(io.Discard, conn) // then wait for the close
	}
	held = time.Since(start)
	if errors.Is(rerr, os.ErrDeadlineExceeded) {
		return held, status, true, nil
	}
	return held, status, false, nil
}
