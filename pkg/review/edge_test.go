package review

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// allowAll is the real controller-runtime webhook (body limit, decoding) with a trivial handler:
// what the edge wraps in production, minus our mutation.
func allowAll() http.Handler {
	return &admission.Webhook{Handler: admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
		return admission.Allowed("")
	})}
}

const minimalReview = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","operation":"CREATE"}}`

func TestSlowClientIsCutOffAtTheDeadline(t *testing.T) {
	const timeout = 300 * time.Millisecond
	rej := newReasons()
	srv := served(t, NewEdge(allowAll(), EdgeOptions{Timeout: timeout, Rejected: rej.add}))
	held, _, gaveUp, err := slowLoris(srv.Listener.Addr().String(), 50*time.Millisecond, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("slow client (1 byte / 50 ms of an announced 7 MB body) held for %s with a %s deadline", held, timeout)
	if gaveUp || held < timeout || held > timeout+3*time.Second {
		t.Fatalf("held %s (gave up: %v), want cut off just after %s", held, gaveUp, timeout)
	}
	if r := rej.wait(t); r != ReasonRequestTimeout {
		t.Fatalf("reason = %q, want %q", r, ReasonRequestTimeout)
	}
}

func TestHandlerContextCarriesTheDeadline(t *testing.T) {
	const timeout = 2 * time.Second
	got := make(chan time.Duration, 1)
	rej := newReasons()
	srv := served(t, NewEdge(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := r.Context().Deadline()
		if !ok {
			d = time.Now().Add(time.Hour)
		}
		got <- time.Until(d)
	}), EdgeOptions{Timeout: timeout, Rejected: rej.add}))
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(minimalReview))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if left := <-got; left <= 0 || left > timeout {
		t.Fatalf("handler context deadline in %s, want within %s", left, timeout)
	}
	if r := rej.list(); len(r) != 0 {
		t.Fatalf("a request that finished in time was reported: %v", r)
	}
}

// Deadlines are per request: a kept-alive connection idle for longer than the timeout still
// serves its next request.
func TestKeptAliveConnectionServesAfterTheDeadline(t *testing.T) {
	const timeout = 300 * time.Millisecond
	srv := served(t, NewEdge(allowAll(), EdgeOptions{Timeout: timeout}))
	reused := make([]bool, 0, 2)
	post := func() {
		t.Helper()
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost, srv.URL, strings.NewReader(minimalReview))
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"allowed":true`) {
			t.Fatalf("status %d body %s", resp.StatusCode, body)
		}
	}
	post()
	<-time.After(timeout + 200*time.Millisecond) // the scenario: idle past the first deadline
	post()
	if len(reused) != 2 || !reused[1] {
		t.Fatalf("connection reuse = %v, want the second request on the first connection", reused)
	}
}

func TestConcurrencyLimitAnswers429(t *testing.T) {
	const limit = 2
	entered := make(chan struct{}, 10)
	release := make(chan struct{})
	rej := newReasons()
	srv := served(t, NewEdge(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(http.StatusOK)
	}), EdgeOptions{Timeout: 10 * time.Second, MaxConcurrent: limit, Rejected: rej.add}))
	var releaseOnce sync.Once
	releaseAll := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(releaseAll) // runs before the server closes, so a failed test does not hang
	post := func() (*http.Response, error) {
		return http.Post(srv.URL, "application/json", strings.NewReader(minimalReview))
	}

	var wg sync.WaitGroup
	codes := make(chan int, limit)
	for i := 0; i < limit; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := post()
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	for i := 0; i < limit; i++ {
		select {
		case <-entered:
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d requests reached the handler", i, limit)
		}
	}

	resp, err := post() // limit+1: refused at once, never reaching the handler
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var st metav1.Status
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("429 body is not a Status: %v: %s", err, body)
	}
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" ||
		st.Code != http.StatusTooManyRequests || st.Reason != metav1.StatusReasonTooManyRequests ||
		!strings.Contains(st.Message, "2 admission reviews already in flight (--max-concurrent-reviews)") {
		t.Fatalf("status %d Retry-After %q body %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if r := rej.wait(t); r != ReasonOverloaded {
		t.Fatalf("reason = %q", r)
	}

	releaseAll()
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Fatalf("a held request got %d", c)
		}
	}
	// The slots are given back: the next request is served.
	resp, err = post()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after release: %d", resp.StatusCode)
	}
	if r := rej.list(); len(r) != 1 {
		t.Fatalf("rejections = %v, want exactly one", r)
	}
}

// An empty body still reaches the webhook as http.NoBody, so controller-runtime answers its own
// clear "request body is empty".
func TestEmptyBodyKeepsControllerRuntimeMessage(t *testing.T) {
	srv := served(t, NewEdge(allowAll(), EdgeOptions{}))
	resp, err := http.Post(srv.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "request body is empty") {
		t.Fatalf("body %s", body)
	}
}

// A body that is not a JSON object gets Handler's clear answer, behind the edge as serve wires
// it, instead of the YAML parser's error controller-runtime's decoder would give.
func TestNonJSONBodyIsAnsweredClearly(t *testing.T) {
	srv := served(t, NewEdge(newPaths(defaultEnv()).new, EdgeOptions{}))
	for _, c := range []struct {
		name, body, want string
	}{
		{"NUL byte", "\x00{not json", `the request body is not a JSON object (it starts with '\\x00')`}, // JSON-escaped
		{"YAML", "apiVersion: admission.k8s.io/v1\n", `the request body is not a JSON object (it starts with 'a')`},
		{"array", " \n[1]", `the request body is not a JSON object (it starts with '[')`},
		{"YAML after 1 KiB of blanks", strings.Repeat(" ", 1<<10) + "request: {}", `the request body is not a JSON object (it starts with 'r')`},
		{"blanks only", " \n\t", `the request body is not a JSON object; expected`},
		{"blanks then an object", "  \n\t" + minimalReview, `"allowed":true`},
		// The size limit is checked before the body is looked at: a failed call.
		{"8 MiB of blanks", strings.Repeat(" ", 8<<20), "request entity is too large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL, "application/json", strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := http.StatusBadRequest // a failed call, never a denial
			switch {
			case len(c.body) >= MaxBodyBytes:
				want = http.StatusRequestEntityTooLarge
			case strings.Contains(c.want, "allowed"):
				want = http.StatusOK
			}
			if resp.StatusCode != want || !strings.Contains(string(body), c.want) {
				t.Fatalf("status %d body %s", resp.StatusCode, body)
			}
		})
	}
}
