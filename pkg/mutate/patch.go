package mutate

import (
	"strconv"
	"strings"

	"gomodules.xyz/jsonpatch/v2"
)

// patch accumulates RFC 6902 operations. Arrays and maps that are absent (or empty) are added
// whole; otherwise elements are appended with "/-" and map keys added one by one, so the patch
// never replaces anything the Pod already has. The one exception is removeKeys, for the keys the
// webhook owns (a forged or stale injected annotation must not survive).
type patch struct {
	ops []jsonpatch.Operation
}

func (p *patch) add(path string, value any) {
	p.ops = append(p.ops, jsonpatch.Operation{Operation: "add", Path: path, Value: value})
}

// appendAll adds items to the array at path, which holds n elements today.
func appendAll[T any](p *patch, path string, n int, items []T) {
	if len(items) == 0 {
		return
	}
	if n == 0 {
		p.add(path, items)
		return
	}
	for _, it := range items {
		p.add(path+"/-", it)
	}
}

// setKeys adds the entries of want that differ from have to the map at path. keys fixes the order
// so patches are deterministic.
func (p *patch) setKeys(path string, have map[string]string, keys []string, want map[string]string) {
	var arr [4]string // two annotations, or two labels per product component: no allocation
	changed := arr[:0]
	for _, k := range keys {
		if v, ok := want[k]; ok {
			if cur, ok := have[k]; !ok || cur != v {
				changed = append(changed, k)
			}
		}
	}
	if len(changed) == 0 {
		return
	}
	if len(have) == 0 {
		m := make(map[string]string, len(changed))
		for _, k := range changed {
			m[k] = want[k]
		}
		p.add(path, m)
		return
	}
	for _, k := range changed {
		p.add(keyPath(path, k), want[k])
	}
}

// removeKeys removes the keys of have listed in keys but absent from want. Only keys the Pod
// carries are removed, so the operation always applies.
func (p *patch) removeKeys(path string, have map[string]string, keys []string, want map[string]string) {
	for _, k := range keys {
		if _, owned := have[k]; owned {
			if _, keep := want[k]; !keep {
				p.ops = append(p.ops, jsonpatch.Operation{Operation: "remove", Path: keyPath(path, k)})
			}
		}
	}
}

// keyPath is the JSON pointer of key in the map at path: key encoded as an RFC 6901 token ("~" as
// "~0", "/" as "~1"). Built in one allocation: every key the webhook writes holds the prefix's
// "/", and this runs for each of them on the admission path.
func keyPath(path, key string) string {
	var b strings.Builder
	b.Grow(len(path) + 1 + len(key) + strings.Count(key, "~") + strings.Count(key, "/"))
	b.WriteString(path)
	b.WriteByte('/')
	for i := 0; i < len(key); i++ {
		switch c := key[i]; c {
		case '~':
			b.WriteString("~0")
		case '/':
			b.WriteString("~1")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func containerPath(i int) string { return "/spec/containers/" + strconv.Itoa(i) + "/volumeMounts" }
