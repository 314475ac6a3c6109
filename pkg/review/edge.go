package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Reasons a request is reported through EdgeOptions.Rejected: reasons of
// tiltlib_admission_reviews_total (result error), of mutate's one Reason type.
const (
	// ReasonOverloaded: MaxConcurrent requests were in flight; answered 429.
	ReasonOverloaded mutate.Reason = "overloaded"
	// ReasonRequestTimeout: the body was still arriving at the deadline; the connection is cut.
	ReasonRequestTimeout mutate.Reason = "request_timeout"
)

// Defaults of EdgeOptions.
const (
	DefaultTimeout       = 10 * time.Second
	DefaultMaxConcurrent = 32
)

// retryAfter is what a 429 asks the API server to wait: short, since a slot frees as soon as one
// review finishes (typically in milliseconds), and well within the 10 s default webhook timeout.
const retryAfter = "1"

// EdgeOptions configure an Edge; zero values pick the defaults.
type EdgeOptions struct {
	// Timeout bounds reading the body, handling and writing the response of one request.
	Timeout time.Duration
	// MaxConcurrent bounds the requests handled at once.
	MaxConcurrent int
	// Rejected, when set, is called once per request refused (ReasonOverloaded) or cut off
	// (ReasonRequestTimeout). These requests never reach the decision's own metrics.
	Rejected func(reason mutate.Reason)
}

// Edge wraps an http.Handler with per-request deadlines and a concurrency limit.
type Edge struct {
	next     http.Handler
	timeout  time.Duration
	slots    chan struct{}
	rejected func(mutate.Reason)
}

// NewEdge wraps next.
func NewEdge(next http.Handler, o EdgeOptions) *Edge {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.Rejected == nil {
		o.Rejected = func(mutate.Reason) {}
	}
	return &Edge{next: next, timeout: o.Timeout, slots: make(chan struct{}, o.MaxConcurrent), rejected: o.Rejected}
}

// ServeHTTP implements http.Handler.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Deadlines first, before anything is written: a kept-alive connection still carries the
	// previous request's write deadline, which net/http does not reset when WriteTimeout is 0.
	// The errors are ErrNotSupported only for a ResponseWriter that is not a server connection
	// (a test recorder); the webhook server's writers, wrapped by promhttp, unwrap to one.
	deadline := time.Now().Add(e.timeout)
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline)

	select {
	case e.slots <- struct{}{}:
		defer func() { <-e.slots }()
	default:
		e.rejected(ReasonOverloaded)
		tooManyRequests(w, cap(e.slots))
		return
	}

	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	r = r.WithContext(ctx)
	var body *watchedBody
	if r.Body != nil && r.Body != http.NoBody { // the handler tells an empty body by NoBody
		body = &watchedBody{ReadCloser: r.Body}
		r.Body = body
	}
	e.next.ServeHTTP(w, r)
	if body != nil && body.timedOut.Load() {
		e.rejected(ReasonRequestTimeout)
	}
}

// watchedBody notes whether reading the body hit the read deadline.
type watchedBody struct {
	io.ReadCloser
	timedOut atomic.Bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		b.timedOut.Store(true)
	}
	return n, err
}

// tooManyRequests answers 429 with a metav1.Status, which the API server's client decodes into
// the error it logs and, once retries and failurePolicy are exhausted, returns to the user.
func tooManyRequests(w http.ResponseWriter, limit int) {
	st := metav1.Status{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"},
		Status:   metav1.StatusFailure,
		Reason:   metav1.StatusReasonTooManyRequests,
		Code:     http.StatusTooManyRequests,
		Message:  fmt.Sprintf("tilt-lib-injector: %d admission reviews already in flight (--max-concurrent-reviews); retry after %s s", limit, retryAfter),
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", retryAfter)
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(st) // the client may be gone; nothing left to tell it
}
