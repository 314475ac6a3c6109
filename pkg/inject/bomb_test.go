package inject

import (
	"bytes"
	"strings"
	"testing"
)

// aliasBomb is issue 11's YAML alias bomb: one string of size bytes, repeated by n aliases. It
// stays under the YAML parser's own aliasing check (a few nodes, each alias expanding a scalar).
func aliasBomb(size, n int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Pod\nmetadata:\n  name: bomb\n  annotations:\n    a: &a \"")
	b.WriteString(strings.Repeat("x", size))
	b.WriteString("\"\nspec:\n  containers:\n  - name: dev\n    args: [")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*a")
	}
	b.WriteString("]\n")
	return b.String()
}

func BenchmarkAliasBomb(b *testing.B) {
	bomb := aliasBomb(64<<10, 985)
	o := DefaultOptions()
	b.ReportAllocs()
	b.SetBytes(int64(len(bomb)))
	for b.Loop() {
		_ = Run(o, strings.NewReader(bomb), &bytes.Buffer{}, &bytes.Buffer{})
	}
}
