//go:build e2e && linux

package faults

import (
	"sync"
	"time"
)

// The decision the test expects, computed from what the test itself created (namespace pins and
// ConfigMaps), never by asking pkg/decide: for tilt-lib, the Namespace's `version` annotation if
// its ConfigMap tilt-lib-<pin> exists there, else the unversioned default; tilt-templates is never
// pinned here, so always the default (docs/design.md, "Which version a Pod gets"). The label the
// webhook writes is the suffix injected: the pin, or "default".

const defaultLabel = "default"

// pinChange is a pin moving from old to new, taking effect (for the webhook) at `at`: the moment
// the webhook could first have seen it. Pods sent before it must carry old; Pods sent after
// at+grace must carry new; in between either is right.
type pinChange struct {
	old, new string
	at       time.Time
	grace    time.Duration
}

// oracle knows every namespace's pin history.
type oracle struct {
	mu      sync.Mutex
	initial map[string]string // namespace → label at the start ("v2", or "default")
	changes map[string][]pinChange
}

func newOracle() *oracle {
	return &oracle{initial: map[string]string{}, changes: map[string][]pinChange{}}
}

func (o *oracle) set(ns, label string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.initial[ns] = label
}

func (o *oracle) change(ns string, ch pinChange) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.changes[ns] = append(o.changes[ns], ch)
}

// accepts reports whether label is a right tilt-lib label for a Pod of ns whose creation was
// sent at start and answered at end.
func (o *oracle) accepts(ns string, start, end time.Time, label string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	want := map[string]bool{o.initial[ns]: true}
	for _, ch := range o.changes[ns] {
		if !end.After(ch.at) {
			break // answered before this change (and every later one) could be seen
		}
		if start.After(ch.at.Add(ch.grace)) {
			want = map[string]bool{ch.new: true}
		} else {
			want[ch.new] = true
		}
	}
	return want[label]
}

// current is the label a Pod sent now, long after every change, must carry.
func (o *oracle) current(ns string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	label := o.initial[ns]
	if chs := o.changes[ns]; len(chs) > 0 {
		label = chs[len(chs)-1].new
	}
	return label
}
