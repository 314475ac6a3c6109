package events

import (
	"container/list"
	"time"
)

// limiter remembers when each key last produced an Event. Keys sit in a list ordered by that
// time (oldest first): an Event is only ever recorded "now" and the clock does not run
// backwards, so appending keeps the order, and expiry pops from the front. Every operation is
// O(1) (amortised for expiry), whatever the number of keys; memory is capped at max keys.
type limiter struct {
	interval time.Duration
	max      int
	byKey    map[key]*list.Element // values are *stamp
	order    *list.List
}

type stamp struct {
	key key
	at  time.Time
}

func newLimiter(interval time.Duration, max int) *limiter {
	return &limiter{interval: interval, max: max, byKey: map[key]*list.Element{}, order: list.New()}
}

// fresh reports whether k may produce an Event at now: no Event of k within the interval.
func (l *limiter) fresh(k key, now time.Time) bool {
	l.expire(now)
	_, seen := l.byKey[k] // expire removed every older stamp
	return !seen
}

// remember records that k produced an Event at now (after fresh said it may).
func (l *limiter) remember(k key, now time.Time) {
	if l.order.Len() >= l.max {
		// More distinct keys in one interval than we are willing to remember: forget the
		// oldest. Its next Event may then come early, which costs one extra Event, never memory.
		l.remove(l.order.Front())
	}
	l.byKey[k] = l.order.PushBack(&stamp{key: k, at: now})
}

// expire forgets every key whose interval has passed. Each key is removed once, so the work is
// paid for by the remember call that added it.
func (l *limiter) expire(now time.Time) {
	for e := l.order.Front(); e != nil; e = l.order.Front() {
		if now.Sub(e.Value.(*stamp).at) < l.interval {
			return
		}
		l.remove(e)
	}
}

func (l *limiter) remove(e *list.Element) {
	delete(l.byKey, e.Value.(*stamp).key)
	l.order.Remove(e)
}

// len is the number of keys remembered.
func (l *limiter) len() int { return len(l.byKey) }
