package lookup

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const prefix = "tilt-lib.platform/"

// fakeAPI is a getNamespace over a map; release, when set, holds every read until closed.
type fakeAPI struct {
	calls   atomic.Int32
	ns      map[string]map[string]string
	err     error
	release chan struct{}
}

func (f *fakeAPI) get(ctx context.Context, name string) (map[string]string, bool, error) {
	f.calls.Add(1)
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
	if f.err != nil {
		return nil, false, f.err
	}
	ann, ok := f.ns[name]
	return ann, ok, nil
}

// counts is a ReadCounter.
type counts struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counts) Read(result string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[result]++
}

func (c *counts) get() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.m)
}

func newFixture(api *fakeAPI, timeout time.Duration) (*readThrough, *NamespaceStore, *counts) {
	store := NewNamespaceStore(prefix)
	c := &counts{}
	return newReadThrough(api.get, store, c, timeout), store, c
}

func TestReadThroughHitNeedsNoRead(t *testing.T) {
	api := &fakeAPI{}
	r, store, c := newFixture(api, time.Second)
	if err := store.Add(nsObject("team-a", map[string]string{prefix + "version": "v2"})); err != nil {
		t.Fatal(err)
	}
	ann, found, err := r.annotations(context.Background(), "team-a")
	if err != nil || !found || ann[prefix+"version"] != "v2" {
		t.Fatalf("hit: %v %v %v", ann, found, err)
	}
	if api.calls.Load() != 0 || len(c.get()) != 0 {
		t.Fatalf("a cache hit called the API server %d times (counted %v)", api.calls.Load(), c.get())
	}
}

func TestReadThroughMissReadsOnceAndStores(t *testing.T) {
	api := &fakeAPI{ns: map[string]map[string]string{"team-new": {prefix + "version": "v2", "other": "x"}}}
	r, store, c := newFixture(api, time.Second)
	for range 3 {
		ann, found, err := r.annotations(context.Background(), "team-new")
		if err != nil || !found || len(ann) != 1 || ann[prefix+"version"] != "v2" {
			t.Fatalf("miss: %v %v %v (only the prefixed annotations are kept)", ann, found, err)
		}
	}
	if n := api.calls.Load(); n != 1 {
		t.Fatalf("%d reads for three reviews of one new namespace, want 1 (then cache hits)", n)
	}
	if got := c.get(); got[ReadFound] != 1 || len(got) != 1 {
		t.Fatalf("counted %v, want one found", got)
	}
	if _, found := store.Annotations("team-new"); !found {
		t.Fatal("the namespace read is not in the store")
	}
}

func TestReadThroughNotFoundIsNotStored(t *testing.T) {
	api := &fakeAPI{}
	r, store, c := newFixture(api, time.Second)
	for range 2 {
		ann, found, err := r.annotations(context.Background(), "made-up")
		if err != nil || found || ann != nil {
			t.Fatalf("not found: %v %v %v", ann, found, err)
		}
	}
	if store.Len() != 0 || api.calls.Load() != 2 || c.get()[ReadNotFound] != 2 {
		t.Fatalf("store %d entries, %d reads, counted %v: want nothing stored, a read (and a count) each", store.Len(), api.calls.Load(), c.get())
	}
}

func TestReadThroughErrorFails(t *testing.T) {
	api := &fakeAPI{err: errors.New("connection refused")}
	r, store, c := newFixture(api, time.Second)
	_, _, err := r.annotations(context.Background(), "team-new")
	if err == nil || !errors.Is(err, api.err) {
		t.Fatalf("err = %v, want the API server's error wrapped", err)
	}
	if store.Len() != 0 || c.get()[ReadError] != 1 {
		t.Fatalf("store %d, counted %v", store.Len(), c.get())
	}
}

func TestReadThroughTimesOut(t *testing.T) {
	api := &fakeAPI{release: make(chan struct{})} // never released: the API server hangs
	defer close(api.release)
	r, _, c := newFixture(api, 50*time.Millisecond)
	_, _, err := r.annotations(context.Background(), "team-new")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
	if got := c.get(); got[ReadTimeout] != 1 || len(got) != 1 {
		t.Fatalf("counted %v, want one timeout", got)
	}
}

// TestReadThroughSharesOneRead: a burst of reviews for one new namespace makes one read; a caller
// that gives up early gets its own error without failing the others.
func TestReadThroughSharesOneRead(t *testing.T) {
	api := &fakeAPI{ns: map[string]map[string]string{"team-new": {prefix + "version": "v2"}}, release: make(chan struct{})}
	r, _, c := newFixture(api, 10*time.Second)
	const callers = 50
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ann, found, err := r.annotations(context.Background(), "team-new")
			if err == nil && (!found || ann[prefix+"version"] != "v2") {
				err = errors.New("wrong answer")
			}
			errs <- err
		}()
	}
	// One caller with a deadline that passes while the read is held.
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := r.annotations(short, "team-new"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a caller whose deadline passed got %v", err)
	}
	close(api.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := api.calls.Load(); n != 1 {
		t.Fatalf("%d reads for %d concurrent reviews of one namespace, want 1", n, callers+1)
	}
	if got := c.get(); got[ReadFound] != 1 || len(got) != 1 {
		t.Fatalf("counted %v", got)
	}
}

// TestReadThroughBoundsReadsInFlight: with maxReadsInFlight reads of distinct names held at the
// API server, the next name's read never reaches it: it waits for a slot within its bound, then
// fails (counted as a timeout).
func TestReadThroughBoundsReadsInFlight(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	get := func(context.Context, string) (map[string]string, bool, error) {
		calls.Add(1)
		<-release // an API server that answers nothing until told
		return nil, true, nil
	}
	c := &counts{}
	r := newReadThrough(get, NewNamespaceStore(prefix), c, 100*time.Millisecond)
	var wg sync.WaitGroup
	for i := range maxReadsInFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _ = r.annotations(context.Background(), fmt.Sprintf("held-%d", i))
		}()
	}
	defer func() { close(release); wg.Wait() }()
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() < maxReadsInFlight { // every slot taken
		if time.Now().After(deadline) {
			t.Fatalf("%d reads reached the API server, want %d", calls.Load(), maxReadsInFlight)
		}
		runtime.Gosched()
	}
	_, _, err := r.annotations(context.Background(), "one-more")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "reads in flight") {
		t.Fatalf("the read beyond the bound: %v", err)
	}
	if n := calls.Load(); n != maxReadsInFlight {
		t.Fatalf("%d reads reached the API server, want %d", n, maxReadsInFlight)
	}
	if got := c.get(); got[ReadTimeout] != 1 {
		t.Fatalf("counted %v, want one timeout", got)
	}
}

// TestReadThroughKeepsTheWatchsEntry: a read that returns after the watch delivered the
// namespace (possibly newer) does not overwrite it.
func TestReadThroughKeepsTheWatchsEntry(t *testing.T) {
	store := NewNamespaceStore(prefix)
	get := func(context.Context, string) (map[string]string, bool, error) {
		// The watch delivers the namespace, with a newer pin, while the read is on the wire.
		if err := store.Add(nsObject("team-new", map[string]string{prefix + "version": "v3"})); err != nil {
			return nil, false, err
		}
		return map[string]string{prefix + "version": "v2"}, true, nil
	}
	r := newReadThrough(get, store, &counts{}, time.Second)
	ann, found, err := r.annotations(context.Background(), "team-new")
	if err != nil || !found || ann[prefix+"version"] != "v3" {
		t.Fatalf("answered %v %v %v, want the watch's v3", ann, found, err)
	}
	if a, _ := store.Annotations("team-new"); a[prefix+"version"] != "v3" {
		t.Fatalf("store holds %v, want the watch's v3", a)
	}
}

func nsObject(name string, ann map[string]string) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: ann}}
}

// BenchmarkNamespaceAnnotationsHit is the admission path's Namespace lookup for a namespace the
// cache holds: the read-through in front of the store must cost no read and no allocation.
func BenchmarkNamespaceAnnotationsHit(b *testing.B) {
	api := &fakeAPI{}
	c := NewCaches(Settings{AnnotationPrefix: prefix}, nil, nil)
	c.miss = newReadThrough(api.get, c.Namespaces, &counts{}, time.Second)
	if err := c.Namespaces.Add(nsObject("team-a", map[string]string{prefix + "version": "v2"})); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, found, err := c.NamespaceAnnotations(ctx, "team-a"); !found || err != nil {
			b.Fatal(found, err)
		}
	}
	if api.calls.Load() != 0 {
		b.Fatalf("%d reads for cache hits", api.calls.Load())
	}
}
