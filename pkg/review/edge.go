package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Reasons a request is reported through EdgeOptions.Rejected: reasons of
// tiltlib_admission_reviews_total (result error), of mutate's one Reason type.
const (
	// ReasonOverloaded: MaxConcurrent bodies were being decided; answered 429.
	ReasonOverloaded mutate.Reason = "overloaded"
	// ReasonRequestTimeout: the body was still arriving at its deadline; answered 408, the
	// connection is closed.
	ReasonRequestTimeout mutate.Reason = "request_timeout"
	// ReasonBodyTooLarge: the body reached MaxBodyBytes (or announced as much); answered 413.
	ReasonBodyTooLarge mutate.Reason = "body_too_large"
	// ReasonBodyBudget: the body did not fit in MaxBodyBytesInFlight; answered 503.
	ReasonBodyBudget mutate.Reason = "body_budget_exhausted"
	// ReasonPanic: a panic on the admission path (edge, decode, decision, answer), recovered;
	// that request is answered 500, the replica keeps serving.
	ReasonPanic mutate.Reason = "panic"
)

// Defaults of EdgeOptions.
const (
	DefaultTimeout       = 10 * time.Second
	DefaultBodyTimeout   = 2 * time.Second
	DefaultMaxConcurrent = 32
	// DefaultMaxBodyBytesInFlight is a sixteenth of the chart's default 256 MiB memory limit:
	// with it, bodies can never take more than 16 MiB of the heap, and five maximal bodies
	// (MaxBodyBytes) fit at once.
	DefaultMaxBodyBytesInFlight = 16 << 20
)

// retryAfter is what a 429 or 503 asks the API server to wait: short, since a slot or budget
// frees as soon as one review finishes (typically in milliseconds), and well within the 10 s
// default webhook timeout.
const retryAfter = "1"

// EdgeOptions configure an Edge; zero values pick the defaults.
type EdgeOptions struct {
	// Timeout bounds reading the body, handling and writing the response of one request.
	Timeout time.Duration
	// BodyTimeout bounds reading the body, from the end of the headers (at most Timeout): the
	// API server sends a review at once, so a body still arriving after it is a trickle.
	BodyTimeout time.Duration
	// MaxConcurrent bounds the requests decided at once, counted from when their body is in.
	MaxConcurrent int
	// MaxBodyBytesInFlight bounds the bytes that bodies hold at once (see Budget).
	MaxBodyBytesInFlight int64
	// Rejected, when set, is called once per request refused or cut off (the Reason* above).
	// These requests never reach the decision's own metrics.
	Rejected func(reason mutate.Reason)
	// Log receives the edge's own panics (Handler logs the rest); default: discarded.
	Log logr.Logger
}

// Edge wraps an http.Handler with per-request deadlines, a budget for bodies and a concurrency
// limit on decisions. It reads each body itself, so that neither a slow body nor an announced
// size holds anything but the bytes that arrived: the wrapped handler gets the complete body.
type Edge struct {
	next                 http.Handler
	timeout, bodyTimeout time.Duration
	budget               *Budget
	slots                chan struct{}
	rejected             func(mutate.Reason)
	log                  logr.Logger
}

// NewEdge wraps next.
func NewEdge(next http.Handler, o EdgeOptions) *Edge {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = DefaultBodyTimeout
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.MaxBodyBytesInFlight <= 0 {
		o.MaxBodyBytesInFlight = DefaultMaxBodyBytesInFlight
	}
	if o.Rejected == nil {
		o.Rejected = func(mutate.Reason) {}
	}
	return &Edge{next: next, timeout: o.Timeout, bodyTimeout: min(o.BodyTimeout, o.Timeout),
		budget: NewBudget(o.MaxBodyBytesInFlight), slots: make(chan struct{}, o.MaxConcurrent), rejected: o.Rejected, log: o.Log}
}

// ServeHTTP implements http.Handler: deadlines, the body, a slot, then the wrapped handler.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Deadlines first, before anything is written: a kept-alive connection still carries the
	// previous request's write deadline, which net/http does not reset when WriteTimeout is 0.
	// The errors are ErrNotSupported only for a ResponseWriter that is not a server connection
	// (a test recorder); the webhook server's writers, wrapped by promhttp, unwrap to one.
	defer e.recoverPanic(w)
	start := time.Now()
	deadline := start.Add(e.timeout)
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(deadline)
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	r = r.WithContext(ctx)

	if r.Body != nil && r.Body != http.NoBody { // the handler tells an empty body by NoBody
		// The body's own deadline: the API server sends a review at once. Once the body hits
		// EOF, net/http clears the read deadline for its background read (which notices a
		// client that goes away), so the decision keeps the request's deadline.
		_ = rc.SetReadDeadline(start.Add(e.bodyTimeout))
		buf := getBuffer()
		_, held, err := readBody(buf, r, e.budget)
		defer func() {
			e.budget.give(held)
			putBuffer(buf)
		}()
		if err != nil {
			e.refuse(w, err)
			return
		}
		r.Body = newEdgeBody(buf)
	}

	select {
	case e.slots <- struct{}{}:
		defer func() { <-e.slots }()
	default:
		e.rejected(ReasonOverloaded)
		failedCall(w, http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests, true,
			fmt.Sprintf("tilt-lib-injector: %d admission reviews already in flight (--max-concurrent-reviews); retry after %s s", cap(e.slots), retryAfter))
		return
	}
	e.next.ServeHTTP(w, r)
}

// refuse answers a request whose body could not be read, with a failed call: never an
// AdmissionReview, which the API server would take as the webhook's denial of the Pod.
func (e *Edge) refuse(w http.ResponseWriter, err error) {
	// What is left of the body is never read: the connection cannot carry another request.
	w.Header().Set("Connection", "close")
	switch {
	case errors.Is(err, errTooLarge):
		e.rejected(ReasonBodyTooLarge)
		failedCall(w, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge, false, "tilt-lib-injector: "+err.Error())
	case errors.Is(err, errNoBudget):
		e.rejected(ReasonBodyBudget)
		failedCall(w, http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable, true,
			fmt.Sprintf("tilt-lib-injector: %s; retry after %s s", err, retryAfter))
	case errors.Is(err, os.ErrDeadlineExceeded):
		e.rejected(ReasonRequestTimeout)
		failedCall(w, http.StatusRequestTimeout, metav1.StatusReasonTimeout, false, "tilt-lib-injector: the request body was still arriving at its deadline")
	default: // the client went away, or sent a malformed chunk
		failedCall(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, false, "tilt-lib-injector: reading the request body: "+err.Error())
	}
}

// recoverPanic turns a panic in the edge into a failed call for this request only; Handler
// recovers its own (with the request's UID), so what reaches here happened before the body was
// decoded.
func (e *Edge) recoverPanic(w http.ResponseWriter) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler { // net/http's own way to abort a response: left to it
		panic(v)
	}
	e.rejected(ReasonPanic)
	e.log.Error(fmt.Errorf("panic: %v", v), "recovered a panic in the admission edge; answered a failed call", "stack", string(debug.Stack()))
	failCall(w, http.StatusInternalServerError, "tilt-lib-injector: internal error (panic) [recovered]")
}

// failCall answers a review that gets no decision with a failed call: HTTP code and a
// metav1.Status carrying message, which the API server's client (client-go) turns into the error
// it logs and, under failurePolicy Fail, returns to the user verbatim ("failed calling webhook
// …: failed to call webhook: <message>"); under Ignore the Pod is admitted as it is. No
// Retry-After: client-go retries a 5xx only with one, and these answers do not get better
// within the webhook's timeout.
func failCall(w http.ResponseWriter, code int32, message string) {
	failedCall(w, int(code), statusReason(code), false, message)
}

// statusReason is the metav1.StatusReason of an HTTP code, as the API server names it.
func statusReason(code int32) metav1.StatusReason {
	switch code {
	case http.StatusBadRequest:
		return metav1.StatusReasonBadRequest
	case http.StatusServiceUnavailable:
		return metav1.StatusReasonServiceUnavailable
	case http.StatusGatewayTimeout:
		return metav1.StatusReasonTimeout
	}
	return metav1.StatusReasonInternalError
}

// failedCall answers code with a metav1.Status, which the API server's client decodes into the
// error it logs and, once retries (429 and 5xx with Retry-After) and failurePolicy are
// exhausted, returns to the user.
func failedCall(w http.ResponseWriter, code int, reason metav1.StatusReason, retry bool, message string) {
	st := metav1.Status{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"},
		Status:   metav1.StatusFailure,
		Reason:   reason,
		Code:     int32(code),
		Message:  message,
	}
	w.Header().Set("Content-Type", "application/json")
	if retry {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(st) // the client may be gone; nothing left to tell it
}
