package inject

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// aliasBomb is the YAML alias bomb docs/design.md bounds (Bounds, `inject`: YAML aliases): one
// string of size bytes, repeated by n aliases. It
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

func BenchmarkAliasBomb265K(b *testing.B) {
	bomb := aliasBomb(265<<10, 985)
	o := DefaultOptions()
	b.ReportAllocs()
	for b.Loop() {
		_ = Run(o, strings.NewReader(bomb), &bytes.Buffer{}, &bytes.Buffer{})
	}
}

// The alias bomb is refused before it is expanded, naming the file and the document.
func TestAliasBombRefused(t *testing.T) {
	o := DefaultOptions()
	o.InputName = "bomb.yaml"
	bomb := okPod + "---\n" + aliasBomb(64<<10, 985)
	err := Run(o, strings.NewReader(bomb), &bytes.Buffer{}, &bytes.Buffer{})
	if !errors.Is(err, ErrAliasExpansion) || !errors.Is(err, ErrInvalidDocument) {
		t.Fatalf("Run() = %v, want ErrAliasExpansion", err)
	}
	if !strings.Contains(err.Error(), "bomb.yaml: invalid document 2: ") {
		t.Errorf("error %q does not name the file and document", err)
	}
}

// Aliases may add at most the document's own size: one alias of a 1000-byte string doubles the
// document and is accepted, a second is refused.
func TestAliasExpansionBound(t *testing.T) {
	doc := func(aliases int) string {
		return "kind: ConfigMap\nmetadata: {name: x}\ndata: {a: &a \"" + strings.Repeat("x", 1000) + "\"}\n" +
			"other: [" + strings.TrimSuffix(strings.Repeat("*a, ", aliases), ", ") + "]\n"
	}
	for aliases, wantErr := range map[int]bool{0: false, 1: false, 2: true} {
		err := checkExpansion(position{file: "f", doc: 1}, []byte(doc(aliases)))
		if gotErr := errors.Is(err, ErrAliasExpansion); gotErr != wantErr {
			t.Errorf("%d aliases: err = %v, want refused: %v", aliases, err, wantErr)
		}
	}
	// The examples share a labels map between a Deployment and its template: accepted.
	for _, f := range []string{"../../examples/team-a.yaml", "../../examples/team-b.yaml"} {
		o := DefaultOptions()
		o.Filenames = []string{f}
		if err := Run(o, nil, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
