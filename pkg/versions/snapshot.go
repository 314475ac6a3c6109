package versions

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Snapshot is one validated document in force. It is never modified once built: share it freely.
type Snapshot struct {
	// Hash names the document served: the first 16 hex digits of the SHA-256 of its bytes, or
	// EmptyHash when no document is present. It is a bounded metric label (one per replica).
	Hash string
	// Aliases are the aliases in force: the static --alias flags, the document winning for a name
	// it defines. Read-only.
	Aliases map[string]string
	// Rollouts are the document's rollouts, validated. Read-only.
	Rollouts []Rollout
	// Moves are Rollouts as the decision reads them (mutate.Options.Rollouts), their defaults
	// filled in: built once per document, so a review builds nothing. Read-only.
	Moves []mutate.Rollout
}

// EmptyHash is the Hash of the empty snapshot (no document present).
const EmptyHash = "none"

// Build parses and validates data against o and returns its snapshot, or every error at once.
func Build(data []byte, o mutate.Options) (*Snapshot, error) {
	d, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if err := Validate(d, o); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return &Snapshot{Hash: hex.EncodeToString(sum[:8]), Aliases: effectiveAliases(o.Aliases, d.Aliases), Rollouts: d.Rollouts, Moves: moves(d.Rollouts)}, nil
}

func moves(rs []Rollout) []mutate.Rollout {
	if len(rs) == 0 {
		return nil
	}
	out := make([]mutate.Rollout, len(rs))
	for i, r := range rs {
		out[i] = mutate.Rollout{Name: r.Name, From: r.From, To: r.To, Components: r.Components, Spec: r.Spec()}
	}
	return out
}

// Apply sets the aliases and rollouts of s into o: what a review or `webhook inject` decides with.
func (s *Snapshot) Apply(o *mutate.Options) {
	o.Aliases, o.Rollouts = s.Aliases, s.Moves
}

// Empty is the snapshot of no document: the static aliases alone.
func Empty(o mutate.Options) *Snapshot {
	return &Snapshot{Hash: EmptyHash, Aliases: effectiveAliases(o.Aliases, nil)}
}

// Live holds the snapshot in force. Load is lock-free; Apply serialises writers.
type Live struct {
	opts mutate.Options
	cur  atomic.Pointer[Snapshot]

	mu   sync.Mutex // serialises Apply
	seen bool       // Apply was called once: the first state of the document is known
	good bool       // a good snapshot (or the first state, absent) is in force
}

// NewLive returns a Live serving the empty snapshot of o, not Ready until the first Apply.
func NewLive(o mutate.Options) *Live {
	l := &Live{opts: o}
	l.cur.Store(Empty(o))
	return l
}

// Load returns the snapshot in force (never nil; the empty one until a good document). A review
// calls it once and reads only that snapshot. Before Ready, reviews must not be served: the
// server counts Ready among its sync conditions.
func (l *Live) Load() *Snapshot { return l.cur.Load() }

// Outcome is what Apply did.
type Outcome int

// Outcomes of Apply.
const (
	// Served: the document (or its absence, at start) is now the snapshot in force.
	Served Outcome = iota
	// Unchanged: the document is the one already served.
	Unchanged
	// KeptInvalid: the document is invalid; the last good snapshot stays (the error says why).
	KeptInvalid
	// KeptDeleted: the document was deleted while running; the last good snapshot stays.
	KeptDeleted
)

// Apply takes the current state of the document: its bytes when present, present false when the
// ConfigMap (or its key) is absent. Absent at the first Apply means the empty document; absent
// later keeps the last good snapshot (a deleted ConfigMap must not silently change versions). An
// invalid document keeps the last good snapshot and returns every error.
func (l *Live) Apply(data []byte, present bool) (Outcome, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := !l.seen
	l.seen = true
	if !present {
		if first {
			l.cur.Store(Empty(l.opts))
			l.good = true
			return Served, nil
		}
		return KeptDeleted, nil
	}
	s, err := Build(data, l.opts)
	if err != nil {
		return KeptInvalid, err // first: never a good document, so not Ready
	}
	if l.good && l.cur.Load().Hash == s.Hash {
		return Unchanged, nil
	}
	l.cur.Store(s)
	l.good = true
	return Served, nil
}

// refuse records a document refused before parsing (a ConfigMap without the key): the last good
// snapshot stays, as for any invalid document.
func (l *Live) refuse(err error) (Outcome, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = true
	return KeptInvalid, err
}

// Ready reports whether a good snapshot is in force: the document's first state is known and
// was valid (or absent), or a valid one came since.
func (l *Live) Ready() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.good
}

// String names the snapshot for a log line.
func (s *Snapshot) String() string {
	return fmt.Sprintf("document %s (%d aliases, %d rollouts)", s.Hash, len(s.Aliases), len(s.Rollouts))
}
