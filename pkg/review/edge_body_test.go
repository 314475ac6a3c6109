package review

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// held is a raw connection that sent a request head announcing contentLength and then the
// first bytes of its body, read by the server (rc) before held returns.
func held(t *testing.T, addr string, rc *readCounter, contentLength int, first []byte) net.Conn {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", Path, contentLength)
	if _, err := raw.Write(append([]byte(head), first...)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc.settle(ctx, raw.LocalAddr().String(), int64(len(head)+len(first)))
	if ctx.Err() != nil {
		t.Fatal("the server never read the request")
	}
	return raw
}

// answer reads the HTTP answer on conn: its status and, when it is one, the metav1.Status.
func answer(t *testing.T, conn net.Conn) (*http.Response, metav1.Status) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	var st metav1.Status
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &st)
	return resp, st
}

func workspaceReview(t *testing.T) []byte {
	return reviewOf(t, v1, "team-a", reviewtest.WorkspacePod(reviewtest.Ladder[1].Shape), false)
}

// A slot is taken once the body is in: a body that never finishes holds none, and a real review
// behind it is decided (with the slot taken before the body, it got 429).
func TestSlotIsTakenOnlyOnceTheBodyIsIn(t *testing.T) {
	rej := newReasons()
	srv, rc := servedCounted(t, NewEdge(New(quietDecider()), EdgeOptions{MaxConcurrent: 1, Rejected: rej.add}), false)
	held(t, srv.Listener.Addr().String(), rc, 100_000, []byte("{"))
	if code, detail := postReview(srv.Client(), srv.URL, workspaceReview(t)); code != "injected" {
		t.Fatalf("with a slow body in flight and one slot: %s %s", code, detail)
	}
	if r := rej.list(); len(r) != 0 {
		t.Fatalf("rejections %v", r)
	}
}

// A body that does not fit in the budget is a failed call, 503 with Retry-After, never an
// AdmissionReview; an ordinary review still fits next to the big bodies.
func TestBodyOverTheBudgetIsAFailedCall(t *testing.T) {
	rej := newReasons()
	// 1 MiB: the bytes beyond each body's first 64 KiB share 512 KiB.
	srv, rc := servedCounted(t, NewEdge(New(quietDecider()), EdgeOptions{MaxBodyBytesInFlight: 1 << 20, Rejected: rej.add}), false)
	addr := srv.Listener.Addr().String()
	// 300 KB in: a 512 KiB buffer, 448 KiB of it beyond 64 KiB.
	held(t, addr, rc, 1_000_000, bytes.Repeat([]byte(" "), 300_000))
	// 150 KB of another body need a 256 KiB buffer, 192 KiB beyond: refused.
	conn := held(t, addr, rc, 1_000_000, bytes.Repeat([]byte(" "), 150_000))
	resp, st := answer(t, conn)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" ||
		st.Kind != "Status" || st.Code != http.StatusServiceUnavailable || st.Reason != metav1.StatusReasonServiceUnavailable ||
		!strings.Contains(st.Message, "--max-body-bytes-in-flight") {
		t.Fatalf("answer %d Retry-After %q %+v", resp.StatusCode, resp.Header.Get("Retry-After"), st)
	}
	if r := rej.wait(t); r != ReasonBodyBudget {
		t.Fatalf("reason %q", r)
	}
	if code, detail := postReview(srv.Client(), srv.URL, workspaceReview(t)); code != "injected" {
		t.Fatalf("a 6 KB review next to the big bodies: %s %s", code, detail)
	}
}

// A body announced at MaxBodyBytes or more is answered 413 at once, unread: a failed call, never
// an AdmissionReview (which would deny the Pod).
func TestAnnouncedBodyOverTheCapIsRefusedUnread(t *testing.T) {
	rej := newReasons()
	srv, rc := servedCounted(t, NewEdge(New(quietDecider()), EdgeOptions{Rejected: rej.add}), false)
	conn := held(t, srv.Listener.Addr().String(), rc, MaxBodyBytes, nil)
	resp, st := answer(t, conn)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Retry-After") != "" ||
		st.Code != http.StatusRequestEntityTooLarge || st.Reason != metav1.StatusReasonRequestEntityTooLarge {
		t.Fatalf("answer %d %+v", resp.StatusCode, st)
	}
	if r := rej.wait(t); r != ReasonBodyTooLarge {
		t.Fatalf("reason %q", r)
	}
	// Unannounced (chunked), the body is read up to the cap.
	big := io.MultiReader(strings.NewReader("{"), strings.NewReader(strings.Repeat(" ", MaxBodyBytes)))
	r, err := http.Post(srv.URL, "application/json", big)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a chunked body over the cap: %d", r.StatusCode)
	}
}

// The body has its own short deadline, from the end of the headers; the decision keeps the
// request's: a trickle is cut at BodyTimeout, a decision that takes longer still answers.
func TestBodyDeadlineIsSeparateFromTheDecisions(t *testing.T) {
	const bodyTimeout = 200 * time.Millisecond
	rej := newReasons()
	slow := make(chan error, 1)
	srv := served(t, NewEdge(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("slow") {
			<-time.After(3 * bodyTimeout) // the scenario: a decision slower than the body deadline
			slow <- r.Context().Err()
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}), EdgeOptions{Timeout: 10 * time.Second, BodyTimeout: bodyTimeout, Rejected: rej.add}))

	heldFor, status, gaveUp, err := slowLoris(srv.Listener.Addr().String(), 20*time.Millisecond, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("trickle (1 byte / 20 ms) held for %s with a %s body deadline and a 10 s request deadline", heldFor, bodyTimeout)
	if gaveUp || heldFor < bodyTimeout || heldFor > 3*time.Second || status != "408" {
		t.Fatalf("held %s (gave up %v), status %q: want cut with 408 soon after %s", heldFor, gaveUp, status, bodyTimeout)
	}
	if r := rej.wait(t); r != ReasonRequestTimeout {
		t.Fatalf("reason %q", r)
	}

	resp, err := http.Post(srv.URL+"?slow", "application/json", strings.NewReader(minimalReview))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a decision slower than the body deadline: %d", resp.StatusCode)
	}
	if err := <-slow; err != nil {
		t.Fatalf("the decision's context ended with the body deadline: %v", err)
	}
}
