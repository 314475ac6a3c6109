package metricsauth

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
)

// Defaults of Filter's zero fields.
const (
	DefaultTTL         = time.Minute
	DefaultDenyTTL     = 10 * time.Second
	DefaultMaxEntries  = 1024
	DefaultMaxInFlight = 8
	// reviewTimeout bounds the two reviews of one request.
	reviewTimeout = 10 * time.Second
)

// Filter wraps a handler with bearer-token authentication and authorization. Build it with New.
type Filter struct {
	reviewer     Reviewer
	ttl, denyTTL time.Duration
	maxEntries   int
	now          func() time.Time
	log          logr.Logger
	inFlight     chan struct{}
	mu           sync.Mutex
	cache        map[cacheKey]decision
}

// Options tune a Filter; zero values pick the defaults above.
type Options struct {
	TTL, DenyTTL            time.Duration
	MaxEntries, MaxInFlight int
	Log                     logr.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

type cacheKey struct {
	token      [sha256.Size]byte // a digest: the cache never holds a usable token
	verb, path string
}

type decision struct {
	code    int // http.StatusOK, StatusUnauthorized or StatusForbidden
	expires time.Time
}

// New returns a Filter asking r.
func New(r Reviewer, o Options) *Filter {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.DenyTTL <= 0 {
		o.DenyTTL = DefaultDenyTTL
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Filter{reviewer: r, ttl: o.TTL, denyTTL: o.DenyTTL, maxEntries: o.MaxEntries, now: o.Now,
		log: o.Log, inFlight: make(chan struct{}, o.MaxInFlight), cache: map[cacheKey]decision{}}
}

// Wrap serves next only to callers allowed the request's verb (its method in lower case, as the
// API server names verbs on non-resource URLs: GET is get, HEAD head, POST post) on its path. next
// never sees the caller's Authorization header.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "Unauthorized: a bearer token is required", http.StatusUnauthorized)
			return
		}
		verb := strings.ToLower(r.Method)
		code := f.decide(r.Context(), token, verb, r.URL.Path)
		switch code {
		case http.StatusOK:
			r.Header.Del("Authorization")
			next.ServeHTTP(w, r)
		case http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "Unauthorized: the API server does not recognise the token", http.StatusUnauthorized)
		case http.StatusForbidden:
			http.Error(w, "Forbidden: needs "+verb+" on "+r.URL.Path+" (a ClusterRole with that nonResourceURL)", http.StatusForbidden)
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many token reviews in flight", http.StatusTooManyRequests)
		default:
			http.Error(w, "the token could not be reviewed", http.StatusServiceUnavailable)
		}
	})
}

// bearer extracts the token of an Authorization header the way the API server's own bearer-token
// authenticator does (so that a header means the same here as in kubectl): the header trimmed,
// split at single spaces, a case-insensitive "Bearer", and the token the second field, which may
// not be empty ("Bearer  x" has none); a third field is ignored.
func bearer(h string) (string, bool) {
	parts := strings.SplitN(strings.TrimSpace(h), " ", 3)
	if len(parts) < 2 || !strings.EqualFold(parts[0], "Bearer") || parts[1] == "" {
		return "", false
	}
	return parts[1], true
}

// decide returns the cached decision for (token, verb, path) or reviews it: 200, 401 or 403, or
// 429 and 503 (never cached) when no review can run now.
func (f *Filter) decide(ctx context.Context, token, verb, path string) int {
	key := cacheKey{sha256.Sum256([]byte(token)), verb, path}
	if code, ok := f.cached(key); ok {
		return code
	}
	select {
	case f.inFlight <- struct{}{}:
		defer func() { <-f.inFlight }()
	default:
		return http.StatusTooManyRequests
	}
	ctx, cancel := context.WithTimeout(ctx, reviewTimeout)
	defer cancel()
	code, err := f.review(ctx, token, verb, path)
	if err != nil {
		f.log.Error(err, "reviewing a metrics scrape's token", "path", path)
		return http.StatusServiceUnavailable
	}
	f.store(key, code)
	return code
}

func (f *Filter) review(ctx context.Context, token, verb, path string) (int, error) {
	user, err := f.reviewer.Authenticate(ctx, token)
	if err != nil {
		return 0, err
	}
	if user == nil {
		f.log.V(1).Info("metrics scrape with an unknown token", "path", path)
		return http.StatusUnauthorized, nil
	}
	allowed, err := f.reviewer.Authorize(ctx, *user, verb, path)
	if err != nil {
		return 0, err
	}
	if !allowed {
		f.log.V(1).Info("metrics scrape refused", "user", user.Username, "verb", verb, "path", path)
		return http.StatusForbidden, nil
	}
	return http.StatusOK, nil
}

func (f *Filter) cached(k cacheKey) (int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.cache[k]
	if !ok || !f.now().Before(d.expires) {
		return 0, false
	}
	return d.code, true
}

// store remembers a decision. When the cache is full it first drops the expired entries; if it
// is still full the decision is not kept (a flood of made-up tokens costs reviews, never memory).
func (f *Filter) store(k cacheKey, code int) {
	ttl := f.denyTTL
	if code == http.StatusOK {
		ttl = f.ttl
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if _, ok := f.cache[k]; !ok && len(f.cache) >= f.maxEntries {
		for key, d := range f.cache {
			if !now.Before(d.expires) {
				delete(f.cache, key)
			}
		}
		if len(f.cache) >= f.maxEntries {
			return
		}
	}
	f.cache[k] = decision{code: code, expires: now.Add(ttl)}
}

// entries is the number of cached decisions (tests).
func (f *Filter) entries() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.cache)
}
