package inject

import (
	"testing"
)

func TestReadDocuments(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		indexes []int
		raws    []string
		yaml    bool
	}{
		{
			name:    "YAML stream keeps each document's bytes; blank and comment-only documents count",
			in:      "---\n# header\n---\nkind: A # a\n---\n\n---\nkind:   B\n",
			indexes: []int{2, 4},
			raws:    []string{"kind: A # a\n", "kind:   B\n"},
			yaml:    true,
		},
		{
			name:    "byte order mark dropped, final newline added",
			in:      "\xef\xbb\xbfkind: A",
			indexes: []int{1},
			raws:    []string{"kind: A\n"},
			yaml:    true,
		},
		{
			name:    "stream of JSON values",
			in:      "  {\"kind\": \"A\"}\n{\"kind\":\"B\"}null",
			indexes: []int{1, 2},
			raws:    []string{`{"kind": "A"}`, `{"kind":"B"}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := readDocuments("in", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != len(tt.indexes) {
				t.Fatalf("got %d documents, want %d", len(docs), len(tt.indexes))
			}
			for i, d := range docs {
				if d.index != tt.indexes[i] || string(d.raw) != tt.raws[i] || d.yaml != tt.yaml {
					t.Errorf("document %d = {index %d, raw %q, yaml %v}, want {%d, %q, %v}",
						i, d.index, d.raw, d.yaml, tt.indexes[i], tt.raws[i], tt.yaml)
				}
			}
		})
	}
}
