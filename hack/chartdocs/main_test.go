package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const values = `# file comment

image:
  # -- Image repository.
  repository: example/x
# -- Replicas | pipes escaped.
replicaCount: 2
# -- Selector, one row
# over two lines.
selector:
  matchLabels: {a: b}
`

func TestTable(t *testing.T) {
	got, err := Table([]byte(values))
	if err != nil {
		t.Fatal(err)
	}
	want := "| Key | Type | Default | Description |\n|---|---|---|---|\n" +
		"| `image.repository` | string | `\"example/x\"` | Image repository. |\n" +
		"| `replicaCount` | int | `2` | Replicas \\| pipes escaped. |\n" +
		"| `selector` | object | `{\"matchLabels\":{\"a\":\"b\"}}` | Selector, one row over two lines. |\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestUndocumentedKey: a value without a `# --` comment is an error, so the table lists every value.
func TestUndocumentedKey(t *testing.T) {
	_, err := Table([]byte("image:\n  repository: x\n"))
	if err == nil || !strings.Contains(err.Error(), "image.repository") {
		t.Errorf("err %v, want one naming image.repository", err)
	}
}

// TestCheckStale: -check fails on a stale README and leaves it alone; a write makes it pass.
func TestCheckStale(t *testing.T) {
	dir := t.TempDir()
	readme := "# chart\n\n" + beginMarker + "\nold table\n" + endMarker + "\ntail\n"
	for name, body := range map[string]string{"values.yaml": values, "README.md": readme} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := run(dir, true); !errors.Is(err, errStale) {
		t.Fatalf("check on a stale README: %v, want errStale", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "README.md")); string(b) != readme {
		t.Error("-check wrote the README")
	}
	if err := run(dir, false); err != nil {
		t.Fatal(err)
	}
	if err := run(dir, true); err != nil {
		t.Errorf("check after a write: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "README.md")); !strings.HasSuffix(string(b), endMarker+"\ntail\n") || strings.Contains(string(b), "old table") {
		t.Errorf("README after a write:\n%s", b)
	}
}
