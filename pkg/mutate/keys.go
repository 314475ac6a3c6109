package mutate

import "strings"

// ownedKeys are the keys, prefix included, that one mutation reads and writes for every component
// and for the webhook's own annotations. Mutate builds them once, in two allocations (one string
// they are all substrings of, one slice), instead of concatenating prefix and key at each use:
// the admission path would pay an allocation for each.
type ownedKeys struct {
	status, injected string
	// version[i] is component i's version annotation and label key, requested[i] its
	// requested-version label key (RequestedKeyPrefix).
	version, requested []string
}

func keysOf(o Options) ownedKeys {
	p := o.AnnotationPrefix
	n := 2*len(p) + len(KeyStatus) + len(KeyInjected)
	for _, c := range o.Components {
		n += 2*(len(p)+len(c.VersionKey)) + len(RequestedKeyPrefix)
	}
	var b strings.Builder
	b.Grow(n)
	var ends []int // positions in b; on the stack for the product table
	var arr [8]int
	ends = arr[:0]
	add := func(parts ...string) {
		for _, s := range parts {
			b.WriteString(s)
		}
		ends = append(ends, b.Len())
	}
	add(p, KeyStatus)
	add(p, KeyInjected)
	for _, c := range o.Components {
		add(p, c.VersionKey)
		add(p, RequestedKeyPrefix, c.VersionKey)
	}
	all := b.String()
	at := func(i int) string {
		if i == 0 {
			return all[:ends[0]]
		}
		return all[ends[i-1]:ends[i]]
	}
	k := ownedKeys{status: at(0), injected: at(1)}
	per := make([]string, 2*len(o.Components))
	k.version, k.requested = per[:len(o.Components)], per[len(o.Components):]
	for i := range o.Components {
		k.version[i], k.requested[i] = at(2+2*i), at(3+2*i)
	}
	return k
}
