package events

import (
	"fmt"
	"testing"
	"time"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// sprayer drives an Emitter on a fake clock with findings from distinct namespaces, as forged
// reviews naming a new namespace each would.
type sprayer struct {
	t     *testing.T
	e     *Emitter
	rec   *fakeRecorder
	drops countDrops
	now   time.Time
	n     int
}

func newSprayer(t *testing.T, o Options) *sprayer {
	s := &sprayer{t: t, rec: &fakeRecorder{got: make(chan struct{}, 100000)}, drops: countDrops{},
		now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	o.Dropped, o.Now = s.drops, func() time.Time { return s.now }
	s.e = New(s.rec, o)
	return s
}

// emit records one finding in ns and reports whether it became an Event.
func (s *sprayer) emit(ns string) bool {
	before := len(s.rec.events)
	s.e.Emit(ns, []mutate.Finding{{Reason: mutate.ReasonConfigMapMissing, Component: "tilt-lib", Message: "m"}})
	s.e.record(<-s.e.queue)
	return len(s.rec.events) > before
}

// spray sends n findings from fresh namespaces, step apart, and returns the times of the Events.
func (s *sprayer) spray(n int, step time.Duration) []time.Time {
	var at []time.Time
	for i := 0; i < n; i++ {
		s.n++
		if s.emit(fmt.Sprintf("ns-%d", s.n)) {
			at = append(at, s.now)
		}
		s.now = s.now.Add(step)
	}
	return at
}

// maxInWindow is the most Events in any window of length w (times ascending).
func maxInWindow(at []time.Time, w time.Duration) int {
	most, first := 0, 0
	for i := range at {
		for at[i].Sub(at[first]) >= w {
			first++
		}
		most = max(most, i-first+1)
	}
	return most
}

// TestSprayingNamespacesStaysWithinTheBudget: 10,000 findings from 10,000 distinct namespaces
// over ten minutes (every key new, so the per-key limit never binds) give at most Budget Events
// in any one-minute window, and the rest are counted as over_budget. Without the budget every
// one of them was an Event.
func TestSprayingNamespacesStaysWithinTheBudget(t *testing.T) {
	for _, budget := range []int{1, 5, DefaultBudget} {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			o := Options{Interval: time.Minute, MaxKeys: 100000}
			if budget != DefaultBudget {
				o.Budget = budget // the default is checked through the zero value
			}
			s := newSprayer(t, o)
			at := s.spray(10000, 60*time.Millisecond) // 1,000 per minute
			if got := maxInWindow(at, time.Minute); got != budget {
				t.Errorf("at most %d Events in a minute, want exactly the budget %d", got, budget)
			}
			if len(at) != 10*budget {
				t.Errorf("%d Events in ten minutes, want %d (the budget, every minute)", len(at), 10*budget)
			}
			if s.drops[CauseOverBudget] != 10000-len(at) || s.drops[CauseRateLimited] != 0 {
				t.Errorf("drops %v, want over_budget=%d and no rate_limited", s.drops, 10000-len(at))
			}
		})
	}
}

// A key turned away by the budget is not remembered: it produced no Event, so once the budget
// has room its next finding does, instead of being rate-limited for an Event it never had.
func TestOverBudgetKeyIsNotRateLimitedLater(t *testing.T) {
	s := newSprayer(t, Options{Interval: time.Minute, Budget: 1})
	if !s.emit("team-a") {
		t.Fatal("the first Event was dropped")
	}
	s.now = s.now.Add(30 * time.Second)
	if s.emit("team-b") {
		t.Fatal("team-b got an Event beyond the budget")
	}
	s.now = s.now.Add(30 * time.Second) // the budget has room again; team-b's try was 30s ago
	if !s.emit("team-b") {
		t.Fatalf("team-b dropped after the window passed (drops %v): it had no Event to be limited by", s.drops)
	}
	if s.emit("team-b") || s.drops[CauseRateLimited] != 1 {
		t.Fatalf("team-b again within the interval: drops %v, want it rate-limited once", s.drops)
	}
}

// The budget is a sliding window, not a fixed one: Budget Events at the end of one minute leave
// no room at the start of the next.
func TestBudgetWindowSlides(t *testing.T) {
	s := newSprayer(t, Options{Interval: time.Minute, Budget: 3})
	s.now = s.now.Add(59 * time.Second)
	if at := s.spray(3, 0); len(at) != 3 {
		t.Fatalf("%d Events, want 3", len(at))
	}
	s.now = s.now.Add(2 * time.Second) // a new calendar minute, 2s after the three
	if at := s.spray(3, 0); len(at) != 0 {
		t.Fatalf("%d Events 2s later, want 0 (the window is one minute long)", len(at))
	}
	s.now = s.now.Add(58 * time.Second) // exactly one minute after the three
	if at := s.spray(4, 0); len(at) != 3 {
		t.Fatalf("%d Events a minute later, want 3", len(at))
	}
}
