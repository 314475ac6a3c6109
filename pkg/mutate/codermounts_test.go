package mutate_test

import (
	"errors"
	"math/rand/v2"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/quick"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// The value shapes of envbox's README and tests: one item, several, with and without ":ro", a
// third token other than "ro" (read-write), empty items, spaces (kept: envbox trims nothing).
func TestParseCoderMounts(t *testing.T) {
	m := func(src, dst, opt string) mutate.CoderMount {
		return mutate.CoderMount{Source: src, Destination: dst, Option: opt}
	}
	for _, tc := range []struct {
		value string
		want  []mutate.CoderMount
	}{
		{"", nil},
		{"/home/coder:/home/coder", []mutate.CoderMount{m("/home/coder", "/home/coder", "")}},
		{"/var/lib/certs:/etc/ssl/certs:ro", []mutate.CoderMount{m("/var/lib/certs", "/etc/ssl/certs", "ro")}},
		{"/home/coder:/home/coder,/var/lib/certs:/etc/ssl/certs:ro,/cache:/cache:rw", []mutate.CoderMount{
			m("/home/coder", "/home/coder", ""), m("/var/lib/certs", "/etc/ssl/certs", "ro"), m("/cache", "/cache", "rw")}},
		{" /a:/b", []mutate.CoderMount{m(" /a", "/b", "")}},
		{"/a:/b , /c:/d", []mutate.CoderMount{m("/a", "/b ", ""), m(" /c", "/d", "")}},
		{"/a:/b: ro", []mutate.CoderMount{m("/a", "/b", " ro")}},
	} {
		got, err := mutate.ParseCoderMounts(tc.value)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseCoderMounts(%q) = %+v, %v; want %+v", tc.value, got, err, tc.want)
		}
	}
	if ms, _ := mutate.ParseCoderMounts("/a:/b: ro"); ms[0].ReadOnly() {
		t.Errorf("%q is read-only; envbox reads only exactly \"ro\" as read-only", "/a:/b: ro")
	}
	if ms, _ := mutate.ParseCoderMounts("/a:/b:ro"); !ms[0].ReadOnly() {
		t.Errorf("%q is not read-only", "/a:/b:ro")
	}
}

func TestParseCoderMountsRefusesWhatEnvboxRefuses(t *testing.T) {
	for _, v := range []string{
		",", "/a:/b,", ",/a:/b", "/a:/b,,/c:/d", " ", "/a", "/a:/b:ro:x", "/a:/b,/c", ":/b", "/a:", "::ro",
	} {
		if ms, err := mutate.ParseCoderMounts(v); !errors.Is(err, mutate.ErrCoderMounts) {
			t.Errorf("ParseCoderMounts(%q) = %+v, %v; want ErrCoderMounts", v, ms, err)
		}
	}
}

func TestAppendCoderMounts(t *testing.T) {
	ours := []mutate.CoderMount{
		{Source: "/apps/tilt-lib", Destination: "/apps/tilt-lib", Option: "ro"},
		{Source: "/apps/template", Destination: "/apps/template", Option: "ro"},
	}
	for _, tc := range []struct{ value, want string }{
		{"", "/apps/tilt-lib:/apps/tilt-lib:ro,/apps/template:/apps/template:ro"},
		{"/home/coder:/home/coder", "/home/coder:/home/coder,/apps/tilt-lib:/apps/tilt-lib:ro,/apps/template:/apps/template:ro"},
		{"/apps/tilt-lib:/apps/tilt-lib:ro", "/apps/tilt-lib:/apps/tilt-lib:ro,/apps/template:/apps/template:ro"},
		{"/x:/apps/template/", "/x:/apps/template/,/apps/tilt-lib:/apps/tilt-lib:ro"}, // listed, cleaned
	} {
		have, err := mutate.ParseCoderMounts(tc.value)
		if err != nil {
			t.Fatal(err)
		}
		got, changed := mutate.AppendCoderMounts(tc.value, have, ours)
		if got != tc.want || changed != (tc.want != tc.value) {
			t.Errorf("AppendCoderMounts(%q) = %q, %v; want %q", tc.value, got, changed, tc.want)
		}
	}
	all := "/apps/tilt-lib:/apps/tilt-lib:ro,/apps/template:/apps/template:ro"
	have, _ := mutate.ParseCoderMounts(all)
	if got, changed := mutate.AppendCoderMounts(all, have, ours); got != all || changed {
		t.Errorf("appending what is listed: %q, %v", got, changed)
	}
}

// Property: for any value our parser accepts with distinct destinations, and any of our items,
// the result parses, keeps the original items first and lists every destination exactly once.
func TestAppendCoderMountsProperty(t *testing.T) {
	dirs := []string{"/home/coder", "/apps/tilt-lib", "/apps/template", "/cache", "/apps/tilt-lib/", "/x y", "/data"}
	gen := func(r *rand.Rand) (string, []mutate.CoderMount) {
		var items []string
		seen := map[string]bool{}
		for range r.IntN(5) {
			src, dst := dirs[r.IntN(len(dirs))], dirs[r.IntN(len(dirs))]
			if seen[path.Clean(dst)] {
				continue
			}
			seen[path.Clean(dst)] = true
			item := src + ":" + dst
			switch r.IntN(3) {
			case 1:
				item += ":ro"
			case 2:
				item += ":rw"
			}
			items = append(items, item)
		}
		var add []mutate.CoderMount
		for _, d := range []string{"/apps/tilt-lib", "/apps/template"} {
			if r.IntN(4) > 0 {
				add = append(add, mutate.CoderMount{Source: d, Destination: d, Option: "ro"})
			}
		}
		return strings.Join(items, ","), add
	}
	prop := func(seed uint64) bool {
		value, add := gen(rand.New(rand.NewPCG(seed, 20)))
		have, err := mutate.ParseCoderMounts(value)
		if err != nil {
			t.Errorf("generated %q does not parse: %v", value, err)
			return false
		}
		out, _ := mutate.AppendCoderMounts(value, have, add)
		got, err := mutate.ParseCoderMounts(out)
		if err != nil {
			t.Errorf("%q + %v = %q, which does not parse: %v", value, add, out, err)
			return false
		}
		if !slices.Equal(got[:len(have)], have) {
			t.Errorf("%q + %v = %q: the original items changed", value, add, out)
			return false
		}
		count := map[string]int{}
		for _, m := range got {
			count[path.Clean(m.Destination)]++
		}
		for _, m := range add {
			if count[m.Destination] != 1 {
				t.Errorf("%q + %v = %q lists %s %d times", value, add, out, m.Destination, count[m.Destination])
				return false
			}
		}
		for d, n := range count {
			if n != 1 {
				t.Errorf("%q + %v = %q lists %s %d times", value, add, out, d, n)
				return false
			}
		}
		return true
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
}
