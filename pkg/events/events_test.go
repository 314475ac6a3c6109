package events

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

type recorded struct {
	ref                       *corev1.ObjectReference
	eventtype, reason, action string
	note                      string
}

// fakeRecorder records Eventf calls and signals each one on got.
type fakeRecorder struct {
	mu     sync.Mutex
	events []recorded
	got    chan struct{}
}

func (f *fakeRecorder) Eventf(regarding, _ runtime.Object, eventtype, reason, action, note string, args ...interface{}) {
	f.mu.Lock()
	f.events = append(f.events, recorded{regarding.(*corev1.ObjectReference), eventtype, reason, action, fmt.Sprintf(note, args...)})
	f.mu.Unlock()
	f.got <- struct{}{}
}

func waitEvents(t *testing.T, f *fakeRecorder, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case <-f.got:
		case <-deadline:
			t.Fatalf("got %d events, want %d", i, n)
		}
	}
}

// TestEmitRecordsNonTrivialFindingsInThePodNamespace: one Warning Event per non-trivial finding,
// regarding the Namespace, its note ending with the reason code like every warning a user sees.
func TestEmitRecordsNonTrivialFindingsInThePodNamespace(t *testing.T) {
	rec := &fakeRecorder{got: make(chan struct{}, 10)}
	e := New(rec, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = e.Start(ctx) }()

	e.Emit("team-a", []mutate.Finding{
		{Reason: mutate.ReasonOptedOut, Message: "trivial"},
		{Reason: "", Message: "no reason"},
		{Reason: mutate.ReasonConfigMapMissing, Component: "tilt-lib", Message: `ConfigMap "tilt-lib-v3" not found`},
	})
	waitEvents(t, rec, 1)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.events) != 1 {
		t.Fatalf("events = %+v", rec.events)
	}
	ev := rec.events[0]
	if ev.ref.Kind != "Namespace" || ev.ref.Name != "team-a" || ev.ref.Namespace != "team-a" {
		t.Fatalf("regarding = %+v", ev.ref)
	}
	if ev.eventtype != corev1.EventTypeWarning || ev.reason != "ConfigMapMissing" || ev.note != `ConfigMap "tilt-lib-v3" not found (reason: configmap_missing)` {
		t.Fatalf("event = %+v", ev)
	}
}

// countDrops is a DropCounter.
type countDrops map[string]int

func (c countDrops) Dropped(cause string) { c[cause]++ }

// TestRateLimitKeyIsNamespaceReasonComponent pins each part of the key: changing the namespace,
// the reason or the component makes a new key; the same key within the interval is dropped.
func TestRateLimitKeyIsNamespaceReasonComponent(t *testing.T) {
	missing := mutate.Finding{Reason: mutate.ReasonConfigMapMissing, Component: "tilt-lib", Message: "m"}
	for _, c := range []struct {
		name          string
		first, second mutate.Finding
		ns2           string
		want          int
	}{
		{"same key twice", missing, missing, "team-a", 1},
		{"other namespace", missing, missing, "team-b", 2},
		{"other reason, same namespace and component", missing,
			mutate.Finding{Reason: mutate.ReasonInvalidVersion, Component: "tilt-lib", Message: "m"}, "team-a", 2},
		{"other component, same namespace and reason", missing,
			mutate.Finding{Reason: mutate.ReasonConfigMapMissing, Component: "tilt-templates", Message: "m"}, "team-a", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &fakeRecorder{got: make(chan struct{}, 10)}
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			drops := countDrops{}
			e := New(rec, Options{Interval: time.Minute, Dropped: drops, Now: func() time.Time { return now }})
			// Drive record directly so the clock is deterministic.
			e.Emit("team-a", []mutate.Finding{c.first})
			e.record(<-e.queue)
			now = now.Add(time.Minute - time.Nanosecond) // still within the interval
			e.Emit(c.ns2, []mutate.Finding{c.second})
			e.record(<-e.queue)
			if len(rec.events) != c.want || drops[CauseRateLimited] != 2-c.want || e.Dropped() != int64(2-c.want) {
				t.Fatalf("events=%d rate-limited=%d, want %d and %d", len(rec.events), drops[CauseRateLimited], c.want, 2-c.want)
			}
		})
	}
}

func TestSameKeyEmitsAgainAfterTheInterval(t *testing.T) {
	rec := &fakeRecorder{got: make(chan struct{}, 10)}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := New(rec, Options{Interval: time.Minute, Now: func() time.Time { return now }})
	missing := []mutate.Finding{{Reason: mutate.ReasonConfigMapMissing, Component: "tilt-lib", Message: "m"}}
	for _, step := range []time.Duration{0, 30 * time.Second, 30 * time.Second} {
		now = now.Add(step)
		e.Emit("team-a", missing)
		e.record(<-e.queue)
	}
	if len(rec.events) != 2 || e.Dropped() != 1 {
		t.Fatalf("events=%d dropped=%d, want 2 (t=0, t=60s) and 1 (t=30s)", len(rec.events), e.Dropped())
	}
}

// Keys expire once their interval has passed, and never exceed MaxKeys: the oldest is forgotten
// (and may then emit early) rather than memory growing.
func TestKeysExpireAndAreCapped(t *testing.T) {
	rec := &fakeRecorder{got: make(chan struct{}, 10)}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := New(rec, Options{Interval: time.Minute, MaxKeys: 3, Now: func() time.Time { return now }})
	emit := func(ns string) {
		e.Emit(ns, []mutate.Finding{{Reason: mutate.ReasonVolumeConflict, Component: "tilt-lib", Message: "v"}})
		e.record(<-e.queue)
	}
	for _, ns := range []string{"a", "b", "c", "d"} {
		now = now.Add(time.Second)
		emit(ns)
	}
	if e.limit.len() != 3 || len(rec.events) != 4 {
		t.Fatalf("keys=%d events=%d, want 3 keys (cap) and 4 events", e.limit.len(), len(rec.events))
	}
	emit("a") // forgotten by the cap: emits again within its interval
	emit("d") // remembered: dropped
	if len(rec.events) != 5 || e.Dropped() != 1 {
		t.Fatalf("events=%d dropped=%d, want 5 and 1", len(rec.events), e.Dropped())
	}
	now = now.Add(time.Minute)
	emit("z")
	if e.limit.len() != 1 {
		t.Fatalf("keys=%d after the interval, want 1 (the others expired)", e.limit.len())
	}
}

func TestNoteFitsTheAPIServerLimit(t *testing.T) {
	for _, c := range []struct {
		name, msg string
		want      string // "" = truncated: checked by the properties below
	}{
		{"short", "ConfigMap \"tilt-lib-v3\" not found", "ConfigMap \"tilt-lib-v3\" not found"},
		{"exactly the limit", strings.Repeat("x", MaxNoteBytes), strings.Repeat("x", MaxNoteBytes)},
		{"one byte over", strings.Repeat("x", MaxNoteBytes+1), ""},
		{"2 MiB", strings.Repeat("y", 2<<20), ""},
		{"multi-byte runes across the cut", "a" + strings.Repeat("é", MaxNoteBytes), ""},
		{"invalid UTF-8 becomes U+FFFD", "bad \xff byte", "bad \uFFFD byte"},
		{"invalid UTF-8 that would grow past the limit", strings.Repeat("\xffa", 500), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := note(c.msg)
			if c.want != "" {
				if got != c.want {
					t.Fatalf("note = %q, want %q", got, c.want)
				}
				return
			}
			if len(got) > MaxNoteBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, truncatedMarker) {
				t.Fatalf("len=%d valid=%v suffix=%v", len(got), utf8.ValidString(got), strings.HasSuffix(got, truncatedMarker))
			}
			if len(got) < MaxNoteBytes-utf8.UTFMax {
				t.Fatalf("len=%d: cut more than one rune short of the limit", len(got))
			}
		})
	}
}

// The queue holds notes already cut: 256 queued 2 MiB messages would otherwise hold 512 MiB.
func TestEmitQueuesTruncatedNotes(t *testing.T) {
	e := New(&fakeRecorder{got: make(chan struct{}, 1)}, Options{})
	e.Emit("team-a", []mutate.Finding{{Reason: mutate.ReasonVolumeConflict, Message: strings.Repeat("v", 2<<20)}})
	if it := <-e.queue; len(it.message) > MaxNoteBytes {
		t.Fatalf("queued message of %d bytes", len(it.message))
	}
}

func TestEmitNeverBlocks(t *testing.T) {
	rec := &fakeRecorder{got: make(chan struct{}, 100)}
	drops := countDrops{}
	e := New(rec, Options{QueueSize: 2, Dropped: drops})
	// Nothing drains the queue: Emit must return anyway and count what it dropped.
	done := make(chan struct{})
	go func() {
		for i := 0; i < 5; i++ {
			e.Emit(fmt.Sprintf("ns-%d", i), []mutate.Finding{{Reason: mutate.ReasonVolumeConflict, Message: "v"}})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Emit blocked on a full queue")
	}
	if e.Dropped() != 3 {
		t.Fatalf("dropped = %d, want 3", e.Dropped())
	}
	if drops[CauseQueueFull] != 3 || drops[CauseRateLimited] != 0 {
		t.Fatalf("drops by cause = %v, want queue_full=3", drops)
	}
}

func TestReasonName(t *testing.T) {
	for in, want := range map[mutate.Reason]string{
		mutate.ReasonConfigMapMissing:  "ConfigMapMissing",
		mutate.ReasonVolumeConflict:    "VolumeConflict",
		mutate.ReasonMountPathConflict: "MountPathConflict",
		mutate.ReasonInvalidVersion:    "InvalidVersion",
		mutate.ReasonNoTargetContainer: "NoTargetContainer",
	} {
		if got := reasonName(in); got != want {
			t.Errorf("reasonName(%s) = %s, want %s", in, got, want)
		}
	}
}
