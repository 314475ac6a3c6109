package mutate_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		name      string
		in        string
		max       int
		kept      string
		cut       int
		validUTF8 bool
	}{
		{"fits", "coder-ws", 8, "coder-ws", 0, true},
		{"at the bound", strings.Repeat("a", 64), 64, strings.Repeat("a", 64), 0, true},
		{"one over", strings.Repeat("a", 65), 64, strings.Repeat("a", 64), 1, true},
		{"two-byte rune across the cut", "a" + strings.Repeat("é", 40), 64, "a" + strings.Repeat("é", 31), 81 - 63, true},
		{"four-byte rune across the cut", "ab" + strings.Repeat("😀", 20), 9, "ab😀", 82 - 6, true},
		// Not UTF-8: the cut moves back at most three bytes, never to an empty string.
		{"continuation bytes only", strings.Repeat("\x80", 100), 64, strings.Repeat("\x80", 61), 39, false},
		{"empty limit", "abc", 0, "", 3, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			kept, cut := mutate.Truncate(c.in, c.max)
			if kept != c.kept || cut != c.cut {
				t.Fatalf("Truncate(%.20q…, %d) = %q, %d; want %q, %d", c.in, c.max, kept, cut, c.kept, c.cut)
			}
			if len(kept) > c.max || len(kept)+cut != len(c.in) || (c.validUTF8 && !utf8.ValidString(kept)) {
				t.Fatalf("kept %d bytes, cut %d of %d: not a clean cut within the bound", len(kept), cut, len(c.in))
			}
		})
	}
}
