package events

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

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
	if ev.eventtype != corev1.EventTypeWarning || ev.reason != "ConfigMapMissing" || ev.note != `ConfigMap "tilt-lib-v3" not found` {
		t.Fatalf("event = %+v", ev)
	}
}

func TestRateLimitPerNamespaceReasonComponent(t *testing.T) {
	rec := &fakeRecorder{got: make(chan struct{}, 10)}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := New(rec, Options{Interval: time.Minute, Now: func() time.Time { return now }})
	missing := []mutate.Finding{{Reason: mutate.ReasonConfigMapMissing, Component: "tilt-lib", Message: "m"}}
	// Drive record directly so the clock is deterministic.
	for _, ns := range []string{"team-a", "team-a", "team-b"} {
		e.Emit(ns, missing)
		e.record(<-e.queue)
	}
	if len(rec.events) != 2 || e.Dropped() != 1 {
		t.Fatalf("events=%d dropped=%d, want 2 and 1 (second team-a within the interval)", len(rec.events), e.Dropped())
	}
	now = now.Add(time.Minute)
	e.Emit("team-a", missing)
	e.record(<-e.queue)
	if len(rec.events) != 3 {
		t.Fatalf("after the interval: events=%d, want 3", len(rec.events))
	}
}

func TestEmitNeverBlocks(t *testing.T) {
	rec := &fakeRecorder{got: make(chan struct{}, 100)}
	e := New(rec, Options{QueueSize: 2})
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
