package lookup

import (
	"context"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	clocktesting "k8s.io/utils/clock/testing"
)

// expiringServer lists an empty Namespace list and answers the first `expire` watches with 410
// Gone (etcd compacted past the Reflector's resource version); later watches stay open. Each list
// is reported on lists, each expired watch on expired, with the time it happened.
type expiringServer struct {
	mu      sync.Mutex
	expire  int
	watches int
	lists   chan time.Time
	expired chan time.Time
}

func (s *expiringServer) list(context.Context, metav1.ListOptions) (*metav1.PartialObjectMetadataList, error) {
	s.lists <- time.Now()
	return &metav1.PartialObjectMetadataList{ListMeta: metav1.ListMeta{ResourceVersion: "10"}}, nil
}

func (s *expiringServer) watch(context.Context, metav1.ListOptions) (watch.Interface, error) {
	s.mu.Lock()
	s.watches++
	n := s.watches
	s.mu.Unlock()
	w := watch.NewFakeWithChanSize(1, false)
	if n <= s.expire {
		gone := apierrors.NewResourceExpired("too old resource version: 10 (20)").Status()
		w.Error(&gone)
		s.expired <- time.Now()
	}
	return w, nil
}

// schedulingSlack is what a loaded test machine may add to a timer (2 shared cores).
const schedulingSlack = 500 * time.Millisecond

// TestRelistAfterExpiredWatchesIsPrompt: a watch that expires again and again (the first watches
// after an outage, each answered 410) is followed by a relist within MaxRelistDelay every time
// (here 0.2–1.2 s: the backoff grows 200 ms, 400 ms, 800 ms). With client-go's default backoff
// the third relist waits 3.2–6.4 s.
func TestRelistAfterExpiredWatchesIsPrompt(t *testing.T) {
	const expire = 3
	srv := &expiringServer{expire: expire, lists: make(chan time.Time, expire+2), expired: make(chan time.Time, expire+2)}
	store := NewNamespaceStore(settings.AnnotationPrefix)
	lw := noWatchList{trimmingListWatch(srv.list, srv.watch, store.trim)}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		newReflector("namespaces", lw, store).RunWithContext(ctx)
	}()
	defer func() { cancel(); <-done }()

	receive := func(ch <-chan time.Time, within time.Duration, what string) time.Time {
		t.Helper()
		select {
		case at := <-ch:
			return at
		case <-time.After(within):
			t.Fatalf("%s: nothing within %v", what, within)
			return time.Time{}
		}
	}
	receive(srv.lists, 10*time.Second, "first list")
	for i := 1; i <= expire; i++ {
		gone := receive(srv.expired, 10*time.Second, "expired watch")
		relist := receive(srv.lists, MaxRelistDelay+schedulingSlack, "relist after expired watch")
		t.Logf("expired watch %d: relisted after %v", i, relist.Sub(gone).Round(time.Millisecond))
	}
	if !store.HasSynced() {
		t.Fatal("store not synced after the relists")
	}
}

// TestRelistBackoffIsCapped: however many failures in a row (a long outage), no delay exceeds MaxRelistDelay, and the delay still grows from
// relistBackoffInit to the cap (the spacing that keeps the API server's load bounded).
func TestRelistBackoffIsCapped(t *testing.T) {
	clock := clocktesting.NewFakeClock(time.Now())
	// The reset interval client-go's Reflector uses (unexported there): 2 minutes.
	delay := relistBackoff().DelayWithReset(clock, 2*time.Minute)
	var last time.Duration
	// 50 failures fit inside the 2 minutes after which the manager starts again from the first
	// delay (client-go resets it every resetInterval since the last reset).
	for i := range 50 {
		d := delay()
		if d > MaxRelistDelay {
			t.Fatalf("failure %d: delay %v > %v", i+1, d, MaxRelistDelay)
		}
		if i == 0 && (d < relistBackoffInit || d > relistBackoffInit*3/2) {
			t.Fatalf("first delay %v, want %v..%v", d, relistBackoffInit, relistBackoffInit*3/2)
		}
		last = d
		clock.Step(d)
	}
	if last < relistBackoffCap {
		t.Fatalf("after 50 failures the delay is %v, want the cap %v (with jitter)", last, relistBackoffCap)
	}
}
