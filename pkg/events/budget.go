package events

import "time"

// budget caps the Events recorded across all keys: at most max in any window of one interval.
// The per-key limiter alone does not bound anything when the keys are chosen by the sender: a
// forged review names any namespace, so N namespaces would get N Events per interval. It
// remembers the times of the last max Events in a ring (oldest first), so a decision is O(1) and
// memory is max timestamps, grown only as Events are recorded.
type budget struct {
	interval time.Duration
	max      int
	times    []time.Time // ring of the last len(times) ≤ max record times
	next     int         // index of the oldest entry once the ring is full
}

func newBudget(interval time.Duration, max int) *budget {
	return &budget{interval: interval, max: max}
}

// allow reports whether one more Event fits at now, and if so spends it. The clock never runs
// backwards for the single goroutine that calls it, so the oldest entry is the one to check.
func (b *budget) allow(now time.Time) bool {
	if len(b.times) < b.max {
		b.times = append(b.times, now)
		return true
	}
	if now.Sub(b.times[b.next]) < b.interval {
		return false
	}
	b.times[b.next] = now
	b.next = (b.next + 1) % b.max
	return true
}
