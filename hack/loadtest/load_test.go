package main

import (
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

const admitted = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u","allowed":true}}`

// tlsTarget is a loopback TLS server running h, and a client for it through newClient.
func tlsTarget(t *testing.T, conns int, h http.HandlerFunc) (*httptest.Server, *http.Client) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	c, err := newClient(ca, conns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return srv, c
}

func TestClosedLoopStopsAtTheCountBound(t *testing.T) {
	var served atomic.Int64
	srv, c := tlsTarget(t, 4, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		served.Add(1)
		_, _ = io.WriteString(w, admitted)
	})
	r := closedLoop(context.Background(), c, srv.URL, []byte(`{}`), 4, time.Minute, 50)
	if r.OK != 50 || r.Failed != 0 || r.FirstErr != nil {
		t.Errorf("closed loop: %+v, want 50 admitted", r)
	}
	// 4 warm-up reviews (one per connection, not counted) + 50.
	if n := served.Load(); n != 54 {
		t.Errorf("server saw %d reviews, want 54", n)
	}
}

func TestReviewFailures(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"HTTP 500": func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) },
		"denied": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, `{"response":{"uid":"u","allowed":false}}`)
		},
	} {
		srv, c := tlsTarget(t, 1, h)
		r := closedLoop(context.Background(), c, srv.URL, []byte(`{}`), 1, time.Minute, 5)
		if r.OK != 0 || r.Failed != 5 || r.FirstErr == nil {
			t.Errorf("%s: %+v, want 5 failures and the first error", name, r)
		}
	}
}

// The open loop keeps sending on schedule while nothing answers (the sender never waits for
// the server: no coordinated omission), and latency counts the wait: every review of the run
// arrives while the server holds them all, and the median latency is at least what the
// schedule implies (review i, scheduled at i×10 ms, is released after review 49 arrived, at
// ≥ 490 ms).
func TestOpenLoopSendsOnScheduleWhileNothingAnswers(t *testing.T) {
	release := make(chan struct{})
	var arrived atomic.Int64
	srv, c := tlsTarget(t, 0, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if arrived.Add(1) > 1 { // the first is the warm-up
			<-release
		}
		_, _ = io.WriteString(w, admitted)
	})
	done := make(chan OpenResult, 1)
	go func() { done <- openLoop(context.Background(), c, srv.URL, []byte(`{}`), 100, 500*time.Millisecond) }()
	err := harness.Poll(context.Background(), 10*time.Second, func(context.Context) (bool, error) {
		return arrived.Load() == 51, nil
	})
	held := arrived.Load()
	close(release)
	r := <-done
	if err != nil {
		t.Fatalf("reviews arrived while the server held them: %d of 51: %v", held, err)
	}
	if r.Sent != 50 || r.OK != 50 || r.SuccessRate() != 1 {
		t.Errorf("open loop: %+v, want 50 sent and admitted", r)
	}
	if r.P50 < 240*time.Millisecond || r.Max < 490*time.Millisecond {
		t.Errorf("latency not from the schedule: p50 %s (want ≥ 240ms), max %s (want ≥ 490ms)", r.P50, r.Max)
	}
}
