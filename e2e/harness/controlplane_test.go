package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTailLines: a failed stop reports the last lines of the API server's log, all of a short
// log, and why when there is none.
func TestTailLines(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "kube-apiserver.log")
	var b strings.Builder
	for i := 1; i <= 50; i++ {
		b.WriteString("line " + string(rune('0'+i/10)) + string(rune('0'+i%10)) + "\n")
	}
	if err := os.WriteFile(log, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(tailLines(log, 3), "\n")
	if len(got) != 3 || got[0] != "line 48" || got[2] != "line 50" {
		t.Errorf("last 3 lines = %q", got)
	}
	if got := tailLines(log, 100); !strings.HasPrefix(got, "line 01\n") || !strings.HasSuffix(got, "line 50") {
		t.Errorf("a short log is reported whole, got %q…", got[:20])
	}
	if got := tailLines(filepath.Join(dir, "absent.log"), 3); !strings.Contains(got, "no such file") {
		t.Errorf("a missing log: %q", got)
	}
}
