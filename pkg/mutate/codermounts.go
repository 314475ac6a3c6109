package mutate

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// CoderMountsEnv is the env var through which Coder's envbox learns which of the outer
// container's paths to bind into the inner container (the developer's real environment).
const CoderMountsEnv = "CODER_MOUNTS"

// CoderInnerImageEnv marks an envbox container: envbox reads the inner image from it.
const CoderInnerImageEnv = "CODER_INNER_IMAGE"

// CoderMount is one item of a CODER_MOUNTS value: "src:dst" or "src:dst:<opt>". Only an option of
// exactly "ro" makes envbox bind read-only; envbox remounts and chowns every other source, which
// fails on a ConfigMap volume, so the webhook's own items always carry ":ro".
type CoderMount struct {
	Source, Destination string
	// Option is the third token as written ("" when there are two tokens).
	Option string
}

// ReadOnly reports whether envbox binds the item read-only.
func (m CoderMount) ReadOnly() bool { return m.Option == "ro" }

// String is the item as CODER_MOUNTS writes it.
func (m CoderMount) String() string {
	if m.Option == "" {
		return m.Source + ":" + m.Destination
	}
	return m.Source + ":" + m.Destination + ":" + m.Option
}

// ErrCoderMounts is wrapped by every error ParseCoderMounts returns.
var ErrCoderMounts = errors.New("malformed CODER_MOUNTS value")

// ParseCoderMounts reads a CODER_MOUNTS value the way envbox does (facts from its documentation
// and behaviour, not its code): "" is no item; otherwise the value is split on ",", and every item
// must be 2 or 3 ":"-separated tokens, or envbox refuses to start. Nothing is trimmed: " /a" is a
// source with a leading space, as envbox reads it. Stricter than envbox only in refusing an empty
// source or destination, which could never mount anything.
func ParseCoderMounts(v string) ([]CoderMount, error) {
	if v == "" {
		return nil, nil
	}
	items := strings.Split(v, ",")
	ms := make([]CoderMount, 0, len(items))
	for i, item := range items {
		tok := strings.Split(item, ":")
		if len(tok) < 2 || len(tok) > 3 {
			return nil, fmt.Errorf("%w: item %d has %d ':'-separated tokens, not 2 or 3", ErrCoderMounts, i+1, len(tok))
		}
		if tok[0] == "" || tok[1] == "" {
			return nil, fmt.Errorf("%w: item %d has an empty source or destination", ErrCoderMounts, i+1)
		}
		m := CoderMount{Source: tok[0], Destination: tok[1]}
		if len(tok) == 3 {
			m.Option = tok[2]
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// AppendCoderMounts returns the value v (already parsed as have) with the items of add whose
// destination have does not list appended, joined with ","; the second result says whether
// anything was appended. Each item of add must have a clean destination.
func AppendCoderMounts(v string, have []CoderMount, add []CoderMount) (string, bool) {
	var b strings.Builder
	b.WriteString(v)
	n := len(v)
	for _, m := range add {
		if listsDestination(have, m.Destination) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.String())
		have = append(have[:len(have):len(have)], m) // never writes into the caller's array
	}
	return b.String(), b.Len() > n
}

// findDestination returns the item of ms mounting at dst (clean); nil when there is none.
// "/apps/tilt-lib/" and "/apps/tilt-lib" are the same directory: either is listed already.
func findDestination(ms []CoderMount, dst string) *CoderMount {
	for i := range ms {
		if ms[i].Destination == dst || path.Clean(ms[i].Destination) == dst {
			return &ms[i]
		}
	}
	return nil
}

func listsDestination(ms []CoderMount, dst string) bool { return findDestination(ms, dst) != nil }
