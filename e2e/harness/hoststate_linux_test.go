package harness

import (
	"context"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseMountinfo(t *testing.T) {
	info := `22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw
30 22 0:26 / /sys/fs/cgroup/pids rw,relatime shared:9 - cgroup cgroup rw,pids
31 22 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
40 1 0:50 / /tmp/node/run/kubelet/pods/a\040b/volumes rw master:1 - tmpfs tmpfs rw
bad line
`
	got, err := parseMountinfo(strings.NewReader(info))
	if err != nil {
		t.Fatal(err)
	}
	want := []mount{
		{"/sys", "sysfs"}, {"/sys/fs/cgroup/pids", "cgroup"}, {"/sys/fs/cgroup/unified", "cgroup2"},
		{"/tmp/node/run/kubelet/pods/a b/volumes", "tmpfs"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseMountinfo:\n got %v\nwant %v", got, want)
	}
}

// TestPointsUnder: only mounts at or below the folder, deepest first (a parent cannot be
// unmounted before what is mounted inside it), a stacked mount listed as often as it is mounted,
// and never a sibling that merely shares the prefix.
func TestPointsUnder(t *testing.T) {
	mounts := []mount{
		{"/tmp/run", "tmpfs"}, {"/tmp/run/a", "tmpfs"}, {"/tmp/run/a/b/c", "overlay"},
		{"/tmp/run/a", "tmpfs"}, {"/tmp/runner", "tmpfs"}, {"/", "ext4"},
	}
	got := pointsUnder(mounts, "/tmp/run")
	want := []string{"/tmp/run/a/b/c", "/tmp/run/a", "/tmp/run/a", "/tmp/run"}
	if !slices.Equal(got, want) {
		t.Errorf("pointsUnder = %v, want %v", got, want)
	}
}

func TestDiffLines(t *testing.T) {
	added, removed := diffLines([]string{"a", "b", "c"}, []string{"b", "c", "d"})
	if !slices.Equal(added, []string{"d"}) || !slices.Equal(removed, []string{"a"}) {
		t.Errorf("diffLines: added %v removed %v", added, removed)
	}
	if a, r := diffLines([]string{"x"}, []string{"x"}); len(a)+len(r) != 0 {
		t.Errorf("equal sets differ: %v %v", a, r)
	}
}

// TestZombie: an exited child not yet waited for counts as gone, so teardown does not wait for
// the reaper; a live one does not.
func TestZombie(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if zombie(pid) {
		t.Fatalf("running pid %d reported as exited", pid)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := Poll(t.Context(), 10*time.Second, func(context.Context) (bool, error) { return zombie(pid), nil })
	_ = cmd.Wait()
	if err != nil {
		t.Fatalf("killed pid %d never reported as exited: %v", pid, err)
	}
}

func TestOverlappingRoute(t *testing.T) {
	_, pods, _ := net.ParseCIDR("10.213.7.0/24")
	routes := []string{
		"default via 192.0.2.1 dev eth0",
		"192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2",
		"fd00::/64 dev eth0 proto kernel metric 256 pref medium",
	}
	if r := overlappingRoute(routes, pods); r != "" {
		t.Errorf("no overlap expected, got %q", r)
	}
	for _, r := range []string{"10.0.0.0/8 dev eth1", "10.213.7.128/25 dev br0", "10.213.7.9 dev tun0"} {
		if got := overlappingRoute(append(routes, r), pods); got != r {
			t.Errorf("overlap with %q not found (got %q)", r, got)
		}
	}
}

func TestRouteDev(t *testing.T) {
	for route, want := range map[string]string{
		"10.213.7.0/24 dev tli-e2e0 proto kernel scope link src 10.213.7.1": "tli-e2e0",
		"default via 192.0.2.1 dev eth0":                                    "eth0",
		"unreachable 10.9.0.0/16":                                           "",
	} {
		if got := routeDev(route); got != want {
			t.Errorf("routeDev(%q) = %q, want %q", route, got, want)
		}
	}
}
