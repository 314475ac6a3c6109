package harness

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestNodeStateRoundTrip: what a run records survives a crash of the writer (the next run reads
// it back whole), and a clean end leaves nothing to undo.
func TestNodeStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if s, err := loadState(dir); s != nil || err != nil {
		t.Fatalf("no state file: got %v, %v", s, err)
	}
	want := &nodeState{
		Sysctls:     map[string]string{"kernel.panic": "1"},
		AbsentPaths: []string{"/var/lib/cni"},
		Cgroups:     []string{"/sys/fs/cgroup/pids/kubepods"},
		TrackCgroup: "/sys/fs/cgroup/pids/" + trackCgroupName,
		Routes:      []string{"default via 192.0.2.1 dev eth0"},
		Bridge:      "tli-e2e0",
		Procs:       []procRecord{{Name: "kubelet", PID: 42, Binary: "/cache/kubelet"}},
		RunDir:      "/tmp/node/run",
	}
	if err := want.save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded %+v, saved %+v", got, want)
	}
	if err := removeState(dir); err != nil {
		t.Fatal(err)
	}
	if s, err := loadState(dir); s != nil || err != nil {
		t.Errorf("after removeState: %v, %v", s, err)
	}
}

// TestNodeStateCorrupt: a state file that is not one stops the run with a clear error instead of
// being taken for "nothing to undo".
func TestNodeStateCorrupt(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, stateFile), []byte("{half"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadState(dir)
	if err == nil || !strings.Contains(err.Error(), "not a node state file") {
		t.Errorf("corrupt state: err %v", err)
	}
}
