package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// requestTimeout bounds one admission request: the timeoutSeconds of the registration (5 s,
// harness.WebhookConfig), after which the API server gives up on a webhook too.
const requestTimeout = 5 * time.Second

// maxResponse bounds what is read of one response: ours and the naive arm answer a few KB.
const maxResponse = 4 << 20

// newClient is an HTTP/1.1 keep-alive client trusting ca only, with at most conns connections
// (0: unbounded) and no proxy: every target is on loopback. HTTP/2 is off, as the API server
// speaks HTTP/1.1 to webhooks unless told otherwise.
func newClient(ca []byte, conns int) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("the CA bundle holds no PEM certificate")
	}
	idle := conns
	if idle == 0 {
		idle = 1024
	}
	tr := &http.Transport{
		Proxy:               nil,
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxConnsPerHost:     conns,
		MaxIdleConns:        idle,
		MaxIdleConnsPerHost: idle,
		IdleConnTimeout:     time.Minute,
	}
	return &http.Client{Transport: tr, Timeout: requestTimeout}, nil
}

// review posts body to url and reports whether the webhook admitted it: status 200 and an
// AdmissionReview response with allowed true. The check is a byte search, not a decode, so
// the load generator spends its CPU on sending (every arm's full answer is checked once at
// start-up, see checkArms).
func review(ctx context.Context, c *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("reading the response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if !bytes.Contains(out, []byte(`"allowed":true`)) {
		return fmt.Errorf("not admitted: %.200s", out)
	}
	return nil
}

// ClosedResult is one closed-loop run.
type ClosedResult struct {
	OK, Failed int
	Elapsed    time.Duration
	FirstErr   error
}

// RPS is admitted reviews per second.
func (r ClosedResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// closedLoop keeps conns requests in flight (each connection sends its next review as soon as
// the previous answer is read) for d or maxRequests reviews, whichever comes first. Each
// connection sends one review before the clock starts, so TLS handshakes are not measured.
func closedLoop(ctx context.Context, c *http.Client, url string, body []byte, conns int, d time.Duration, maxRequests int) ClosedResult {
	var (
		claimed, ok, failed atomic.Int64
		firstErr            error
		errOnce             sync.Once
		warm, done          sync.WaitGroup
	)
	start := make(chan struct{})
	var stop atomic.Bool
	fail := func(err error) {
		failed.Add(1)
		errOnce.Do(func() { firstErr = err })
	}
	for range conns {
		warm.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			if err := review(ctx, c, url, body); err != nil {
				fail(fmt.Errorf("warm-up: %w", err))
			}
			warm.Done()
			<-start
			for !stop.Load() && ctx.Err() == nil {
				if maxRequests > 0 && claimed.Add(1) > int64(maxRequests) {
					return
				}
				if err := review(ctx, c, url, body); err != nil {
					fail(err)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	warm.Wait()
	failed.Store(0) // warm-up failures are reported through firstErr only
	t0 := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	close(start)
	done.Wait()
	timer.Stop()
	return ClosedResult{OK: int(ok.Load()), Failed: int(failed.Load()), Elapsed: time.Since(t0), FirstErr: firstErr}
}

// OpenResult is one open-loop run.
type OpenResult struct {
	Latencies
	Sent, OK int
	FirstErr error
}

// SuccessRate is the fraction of sent reviews that were admitted.
func (r OpenResult) SuccessRate() float64 {
	if r.Sent == 0 {
		return 0
	}
	return float64(r.OK) / float64(r.Sent)
}

// openLoop sends rate reviews per second for d on a fixed schedule, whatever the answers do:
// each review leaves at its scheduled time on its own goroutine (over c's connections: a new
// one when none is idle, up to c's bound, else it waits for one), and its latency is measured from the scheduled time, not from when it actually left,
// so a stalled server shows as latency instead of a lower send rate (no coordinated omission).
// Latencies include failed reviews. One review goes out first to open a connection.
func openLoop(ctx context.Context, c *http.Client, url string, body []byte, rate int, d time.Duration) OpenResult {
	n := int(float64(rate) * d.Seconds())
	if n < 1 || rate < 1 {
		return OpenResult{}
	}
	if err := review(ctx, c, url, body); err != nil {
		return OpenResult{Sent: 0, FirstErr: fmt.Errorf("warm-up: %w", err)}
	}
	lat := make([]time.Duration, n)
	okv := make([]bool, n)
	errs := make([]error, n)
	interval := time.Second / time.Duration(rate)
	var wg sync.WaitGroup
	t0 := time.Now()
	sent := 0
	for i := range n {
		at := t0.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			time.Sleep(wait)
		}
		if ctx.Err() != nil {
			break
		}
		sent++
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = review(ctx, c, url, body)
			lat[i] = time.Since(at)
			okv[i] = errs[i] == nil
		}()
	}
	wg.Wait()
	r := OpenResult{Sent: sent}
	for i := range sent {
		if okv[i] {
			r.OK++
		} else if r.FirstErr == nil {
			r.FirstErr = errs[i]
		}
	}
	r.Latencies = Summarize(lat[:sent])
	return r
}
