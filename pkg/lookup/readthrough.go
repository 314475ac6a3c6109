package lookup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/singleflight"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fieldsel "k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/metadata"
)

// Results of a read of a Namespace the cache missed (tiltlib_namespace_reads_total{result}).
const (
	ReadFound    = "found"     // it exists: stored, the next review of it is a cache hit
	ReadNotFound = "not_found" // the API server does not know it either: answered with defaults, not stored
	ReadError    = "error"     // the read failed: the review gets a failed call (cache_error)
	ReadTimeout  = "timeout"   // the read took longer than its bound: the same
)

// ReadResults are every result, for zero series.
var ReadResults = []string{ReadFound, ReadNotFound, ReadError, ReadTimeout}

// DefaultReadTimeout bounds one read of a Namespace the cache missed. The API server answers a
// read in milliseconds; 2 s is well inside the chart's timeoutSeconds (5 s) and --request-timeout
// (10 s), so a slow API server makes the review a failed call of ours (cache_error, with our
// message), not a timeout of the API server's.
const DefaultReadTimeout = 2 * time.Second

// maxReadsInFlight bounds the reads in flight across all names: a burst of reviews naming
// namespaces the cache does not hold (new namespaces, or forged reviews naming made-up ones) costs
// the API server at most this many requests at once; the rest wait within their deadline.
const maxReadsInFlight = 4

// ReadCounter counts reads by result (pkg/metrics' NamespaceReads).
type ReadCounter interface{ Read(result string) }

// getNamespace reads one Namespace's annotations from the API server; found is false when it
// does not exist.
type getNamespace func(ctx context.Context, name string) (ann map[string]string, found bool, err error)

// readThrough answers a Namespace the store does not hold (yet) by reading it from the API
// server, once: concurrent misses of one name share one read (singleflight), and what is found
// is stored, so the next review of that namespace is a cache hit. It is the one API call on the
// admission path, and only for a namespace the watch has not delivered yet (a namespace created
// seconds before its first workspace, in the same GitOps sync).
type readThrough struct {
	get     getNamespace
	store   *NamespaceStore
	counter ReadCounter
	timeout time.Duration
	slots   chan struct{}
	group   singleflight.Group
}

func newReadThrough(get getNamespace, store *NamespaceStore, counter ReadCounter, timeout time.Duration) *readThrough {
	if timeout <= 0 {
		timeout = DefaultReadTimeout
	}
	return &readThrough{get: get, store: store, counter: counter, timeout: timeout, slots: make(chan struct{}, maxReadsInFlight)}
}

type readAnswer struct {
	ann   map[string]string
	found bool
}

// annotations returns the Namespace's annotations under the prefix and whether it exists, from
// the store when it holds name, else from one read shared with every concurrent miss of name. The
// caller waits at most until ctx is done; the read itself is bounded by r.timeout and not by any
// one caller, so a caller that gives up does not fail the others.
func (r *readThrough) annotations(ctx context.Context, name string) (map[string]string, bool, error) {
	if ann, found := r.store.Annotations(name); found {
		return ann, true, nil
	}
	ch := r.group.DoChan(name, func() (any, error) { return r.read(name) })
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, false, res.Err
		}
		a, _ := res.Val.(readAnswer) // read returns nothing else
		return a.ann, a.found, nil
	case <-ctx.Done():
		return nil, false, fmt.Errorf("waiting for Namespace %s from the API server: %w", name, ctx.Err())
	}
}

// read reads name once and stores what it finds.
func (r *readThrough) read(name string) (readAnswer, error) {
	// The watch may have delivered it while this read waited its turn.
	if ann, found := r.store.Annotations(name); found {
		return readAnswer{ann, true}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	case <-ctx.Done():
		r.counter.Read(ReadTimeout)
		return readAnswer{}, fmt.Errorf("reading Namespace %s from the API server: waited %s behind %d reads in flight: %w", name, r.timeout, maxReadsInFlight, ctx.Err())
	}
	all, found, err := r.get(ctx, name)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		r.counter.Read(ReadTimeout)
		return readAnswer{}, fmt.Errorf("reading Namespace %s from the API server: no answer within %s: %w", name, r.timeout, err)
	case err != nil:
		r.counter.Read(ReadError)
		return readAnswer{}, fmt.Errorf("reading Namespace %s from the API server: %w", name, err)
	case !found:
		// Not stored: the API server refuses Pods in a namespace that does not exist, so only a
		// request that is not from it names one, and such names must not grow the store.
		r.counter.Read(ReadNotFound)
		return readAnswer{}, nil
	}
	r.counter.Read(ReadFound)
	ann, _ := r.store.addIfAbsent(name, all)
	return readAnswer{ann, true}, nil
}

// listNamespace reads one Namespace's metadata with a list restricted to its name: the
// injector's RBAC lets it list and watch Namespaces (its cache), not get them, and a list by
// metadata.name is the same single-object read.
func listNamespace(client metadata.Interface) getNamespace {
	return func(ctx context.Context, name string) (map[string]string, bool, error) {
		l, err := client.Resource(namespacesResource).List(ctx, metav1.ListOptions{
			FieldSelector: fieldsel.OneTermEqualSelector("metadata.name", name).String(),
		})
		if err != nil {
			return nil, false, err
		}
		for i := range l.Items {
			if l.Items[i].Name == name {
				return l.Items[i].Annotations, true, nil
			}
		}
		return nil, false, nil
	}
}
