package metricsauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
)

// fakeReviewer knows tokens (token -> user) and grants (user -> allowed paths), and counts calls.
type fakeReviewer struct {
	mu       sync.Mutex
	users    map[string]string
	grants   map[string][]string
	err      error
	block    chan struct{} // when set, Authenticate waits on it
	calls    int
	lastVerb string
}

func (f *fakeReviewer) Authenticate(_ context.Context, token string) (*authenticationv1.UserInfo, error) {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	name, ok := f.users[token]
	if !ok {
		return nil, nil
	}
	return &authenticationv1.UserInfo{Username: name}, nil
}

func (f *fakeReviewer) Authorize(_ context.Context, u authenticationv1.UserInfo, verb, path string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastVerb = verb
	for _, g := range f.grants[u.Username] {
		if g == verb+" "+path {
			return true, nil
		}
	}
	return false, nil
}

func (f *fakeReviewer) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// served is the guarded handler; it refuses to serve when the caller's token reaches it.
var served = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		http.Error(w, "the token was passed on", http.StatusTeapot)
		return
	}
	fmt.Fprint(w, "metrics")
})

func get(h http.Handler, method, path, auth string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func reviewer() *fakeReviewer {
	return &fakeReviewer{
		users:  map[string]string{"scraper-token": "system:serviceaccount:monitoring:prometheus", "other-token": "system:serviceaccount:team-a:default"},
		grants: map[string][]string{"system:serviceaccount:monitoring:prometheus": {"get /metrics"}},
	}
}

func TestOnlyAuthorizedTokensGetMetrics(t *testing.T) {
	for _, c := range []struct {
		name, method, path, auth string
		want                     int
	}{
		{"no token", http.MethodGet, "/metrics", "", http.StatusUnauthorized},
		{"basic auth", http.MethodGet, "/metrics", "Basic dXNlcjpwYXNz", http.StatusUnauthorized},
		{"the token as basic auth", http.MethodGet, "/metrics", "Basic scraper-token", http.StatusUnauthorized},
		{"Bearer alone", http.MethodGet, "/metrics", "Bearer", http.StatusUnauthorized},
		{"empty bearer", http.MethodGet, "/metrics", "Bearer  ", http.StatusUnauthorized},
		{"two spaces before the token", http.MethodGet, "/metrics", "Bearer  scraper-token", http.StatusUnauthorized},
		{"a tab after Bearer", http.MethodGet, "/metrics", "Bearer\tscraper-token", http.StatusUnauthorized},
		{"text after the token is ignored", http.MethodGet, "/metrics", "Bearer scraper-token more", http.StatusOK},
		{"spaces around the header", http.MethodGet, "/metrics", "  Bearer scraper-token  ", http.StatusOK},
		{"unknown token", http.MethodGet, "/metrics", "Bearer made-up", http.StatusUnauthorized},
		{"known user without the grant", http.MethodGet, "/metrics", "Bearer other-token", http.StatusForbidden},
		{"granted user, other path", http.MethodGet, "/debug", "Bearer scraper-token", http.StatusForbidden},
		{"granted user", http.MethodGet, "/metrics", "Bearer scraper-token", http.StatusOK},
		{"scheme is case-insensitive", http.MethodGet, "/metrics", "bearer scraper-token", http.StatusOK},
		{"HEAD is verb head, not granted", http.MethodHead, "/metrics", "Bearer scraper-token", http.StatusForbidden},
		{"POST is verb post, not granted", http.MethodPost, "/metrics", "Bearer scraper-token", http.StatusForbidden},
		{"POST without a token", http.MethodPost, "/metrics", "", http.StatusUnauthorized},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := reviewer()
			rec := get(New(r, Options{}).Wrap(served), c.method, c.path, c.auth)
			if rec.Code != c.want {
				t.Fatalf("HTTP %d (%s), want %d", rec.Code, rec.Body, c.want)
			}
			if (rec.Code == http.StatusOK) != (rec.Body.String() == "metrics") {
				t.Fatalf("body %q with HTTP %d", rec.Body, rec.Code)
			}
			if verb := strings.ToLower(c.method); rec.Code == http.StatusForbidden && r.lastVerb != verb {
				t.Fatalf("asked for verb %q, want %q", r.lastVerb, verb)
			}
		})
	}
}

// Decisions are cached per token and path: allowed for TTL, refused for DenyTTL; a failed review
// is not cached (the next scrape asks again).
func TestDecisionsAreCached(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := reviewer()
	h := New(r, Options{TTL: time.Minute, DenyTTL: 10 * time.Second, Now: func() time.Time { return now }}).Wrap(served)
	for _, step := range []struct {
		auth  string
		after time.Duration
		want  int
		calls int
	}{
		{"Bearer scraper-token", 0, 200, 1},
		{"Bearer scraper-token", 59 * time.Second, 200, 1}, // cached
		{"Bearer scraper-token", time.Second, 200, 2},      // TTL passed: reviewed again
		{"Bearer made-up", 0, 401, 3},
		{"Bearer made-up", 9 * time.Second, 401, 3}, // cached refusal
		{"Bearer made-up", time.Second, 401, 4},
	} {
		now = now.Add(step.after)
		if rec := get(h, http.MethodGet, "/metrics", step.auth); rec.Code != step.want || r.count() != step.calls {
			t.Fatalf("%s after %s: HTTP %d with %d reviews, want %d with %d", step.auth, step.after, rec.Code, r.count(), step.want, step.calls)
		}
	}
	r.err = errors.New("API server down")
	for i := 0; i < 2; i++ {
		if rec := get(h, http.MethodGet, "/metrics", "Bearer other-token"); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("review error: HTTP %d, want 503", rec.Code)
		}
	}
	if r.count() != 6 {
		t.Fatalf("%d reviews, want 6: a failed review must not be cached", r.count())
	}
}

// A decision is cached per verb: an allowed GET does not let the same token POST.
func TestCachedDecisionIsPerVerb(t *testing.T) {
	r := reviewer()
	h := New(r, Options{}).Wrap(served)
	if code := get(h, http.MethodGet, "/metrics", "Bearer scraper-token").Code; code != http.StatusOK {
		t.Fatalf("GET: HTTP %d, want 200", code)
	}
	if code := get(h, http.MethodPost, "/metrics", "Bearer scraper-token").Code; code != http.StatusForbidden || r.count() != 2 {
		t.Fatalf("POST after a cached GET: HTTP %d after %d reviews, want 403 after 2", code, r.count())
	}
}

// The cache never holds more than MaxEntries decisions: expired ones make room, live ones are
// never evicted for a flood of new tokens (those are then simply not cached).
func TestCacheIsBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := reviewer()
	f := New(r, Options{MaxEntries: 3, DenyTTL: 10 * time.Second, Now: func() time.Time { return now }})
	h := f.Wrap(served)
	get(h, http.MethodGet, "/metrics", "Bearer scraper-token")
	for i := 0; i < 100; i++ {
		get(h, http.MethodGet, "/metrics", fmt.Sprintf("Bearer junk-%d", i))
	}
	if f.entries() != 3 {
		t.Fatalf("%d cached decisions, want the bound 3", f.entries())
	}
	calls := r.count()
	if get(h, http.MethodGet, "/metrics", "Bearer scraper-token").Code != 200 || r.count() != calls {
		t.Fatal("the scraper's decision was evicted by the flood")
	}
	now = now.Add(11 * time.Second) // the junk refusals expire and make room
	get(h, http.MethodGet, "/metrics", "Bearer other-token")
	calls = r.count()
	get(h, http.MethodGet, "/metrics", "Bearer other-token")
	if r.count() != calls || f.entries() > 3 {
		t.Fatalf("after expiry: %d entries, second request reviewed again: %v", f.entries(), r.count() != calls)
	}
}

// At most MaxInFlight reviews run at once; a request needing one more gets 429 at once, while a
// cached decision is still served.
func TestReviewsInFlightAreBounded(t *testing.T) {
	r := reviewer()
	f := New(r, Options{MaxInFlight: 2})
	h := f.Wrap(served)
	if get(h, http.MethodGet, "/metrics", "Bearer scraper-token").Code != 200 {
		t.Fatal("warming the cache failed")
	}
	r.block = make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			get(h, http.MethodGet, "/metrics", fmt.Sprintf("Bearer slow-%d", i))
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(f.inFlight) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the two reviews never started")
		}
		time.Sleep(time.Millisecond)
	}
	if code := get(h, http.MethodGet, "/metrics", "Bearer third").Code; code != http.StatusTooManyRequests {
		t.Errorf("a third review in flight: HTTP %d, want 429", code)
	}
	if code := get(h, http.MethodGet, "/metrics", "Bearer scraper-token").Code; code != http.StatusOK {
		t.Errorf("a cached decision while reviews are in flight: HTTP %d, want 200", code)
	}
	close(r.block)
	wg.Wait()
}
