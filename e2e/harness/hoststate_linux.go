package harness

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// nodeSysctls are the kernel settings a node run may change: kubelet sets the first six at start
// (its "kernel tunables"); the last two would be flipped by a CNI gateway, which the harness
// avoids, and are watched to prove it.
var nodeSysctls = []string{
	"vm.overcommit_memory", "vm.panic_on_oom", "kernel.panic", "kernel.panic_on_oops",
	"kernel.keys.root_maxkeys", "kernel.keys.root_maxbytes",
	"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding",
}

// hostFolders are folders containerd, kubelet and the CNI plugins create by default. The harness
// points every one of them into the run folder; any that appears anyway is removed, and the
// teardown check reports it.
var hostFolders = []string{
	"/run/containerd", "/var/lib/containerd", "/etc/containerd", "/opt/containerd",
	"/run/nri", "/etc/nri", "/var/run/cdi", "/etc/cdi",
	"/var/lib/cni", "/etc/cni", "/opt/cni", "/run/netns",
	"/var/lib/kubelet", "/var/log/pods", "/var/log/containers", "/etc/kubernetes",
	"/usr/libexec/kubernetes", "/run/kubernetes",
}

// nodeCgroups are the top-level cgroups kubelet (kubepods) and containerd (k8s.io) create.
var nodeCgroups = []string{"kubepods", "k8s.io"}

// trackCgroupName is the cgroup every process of a node run starts in.
const trackCgroupName = "tilt-lib-injector-e2e-node"

// snapshotHost records the host state a run may change. It fails when the run could not undo
// what it would do: the bridge or a cgroup already exists (another node, or a leftover this
// harness does not know about).
func snapshotHost(runDir, bridge string) (*nodeState, error) {
	s := &nodeState{Sysctls: map[string]string{}, Bridge: bridge, RunDir: runDir}
	for _, key := range nodeSysctls {
		v, err := readSysctl(key)
		if errors.Is(err, fs.ErrNotExist) {
			continue // IPv6 off, or a kernel without the setting
		}
		if err != nil {
			return nil, err
		}
		s.Sysctls[key] = v
	}
	for _, p := range hostFolders {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			s.AbsentPaths = append(s.AbsentPaths, p)
		}
	}
	hier, err := cgroupHierarchies()
	if err != nil {
		return nil, err
	}
	for _, h := range hier {
		for _, name := range nodeCgroups {
			p := filepath.Join(h, name)
			if _, err := os.Stat(p); err == nil {
				return nil, fmt.Errorf("cgroup %s exists before the node starts: another kubelet or a leftover this harness did not record; remove it (rmdir, bottom-up) once nothing runs in it", p)
			}
			s.Cgroups = append(s.Cgroups, p)
		}
	}
	if s.TrackCgroup, err = trackHierarchy(hier); err != nil {
		return nil, err
	}
	s.TrackCgroup = filepath.Join(s.TrackCgroup, trackCgroupName)
	if _, err := os.Stat(s.TrackCgroup); err == nil {
		return nil, fmt.Errorf("cgroup %s exists before the node starts and no state file says why", s.TrackCgroup)
	}
	s.Cgroups = append(s.Cgroups, s.TrackCgroup)
	if linkExists(bridge) {
		return nil, fmt.Errorf("network interface %s exists before the node starts and no state file says why", bridge)
	}
	if s.Routes, err = hostRoutes(); err != nil {
		return nil, err
	}
	return s, nil
}

// undo reverses a run: processes, mounts, cgroups, the bridge, sysctls, host folders, in that
// order (a mount or cgroup cannot go while a process uses it). It goes on after an error and
// returns them all. earlier is true when undoing an interrupted run, whose control plane is
// ended too.
func (s *nodeState) undo(earlier bool) error {
	var errs []error
	procs := s.Procs
	if earlier {
		procs = append(append([]procRecord{}, s.ControlPlane...), s.Procs...)
	}
	for i := len(procs) - 1; i >= 0; i-- {
		errs = append(errs, stopRecorded(procs[i], 10*time.Second))
	}
	// Containers (in kubelet's cgroups), then whatever is left of the run's process tree
	// (containerd's shims): they are the run's, whatever their PID.
	for _, cg := range s.Cgroups {
		errs = append(errs, killCgroupTree(cg))
	}
	errs = append(errs, unmountUnder(s.RunDir))
	for _, cg := range s.Cgroups {
		errs = append(errs, removeCgroupTree(cg))
	}
	if s.Bridge != "" && linkExists(s.Bridge) {
		// The Pods' veths go first: the kernel would delete them with their network namespaces,
		// but asynchronously, and their routes would still show in the check below.
		for _, port := range bridgePorts(s.Bridge) {
			errs = append(errs, deleteLink(port))
		}
		errs = append(errs, deleteLink(s.Bridge))
	}
	for key, v := range s.Sysctls {
		if cur, err := readSysctl(key); err == nil && cur != v {
			errs = append(errs, writeSysctl(key, v))
		}
	}
	for _, p := range s.AbsentPaths {
		errs = append(errs, removeCreated(p))
	}
	return errors.Join(errs...)
}

// verify compares the host with the state before the run: every difference is an error.
// earlier is true after undoing an interrupted run (its control plane must be gone too).
func (s *nodeState) verify(earlier bool) error {
	var errs []error
	for key, v := range s.Sysctls {
		if cur, err := readSysctl(key); err != nil || cur != v {
			errs = append(errs, fmt.Errorf("sysctl %s is %q, was %q (%v)", key, cur, v, err))
		}
	}
	for _, p := range append(append([]string{}, s.AbsentPaths...), s.Cgroups...) {
		if _, err := os.Lstat(p); err == nil {
			errs = append(errs, fmt.Errorf("%s exists, did not before the node ran", p))
		}
	}
	if mounts, err := mountsUnder(s.RunDir); err != nil || len(mounts) > 0 {
		errs = append(errs, fmt.Errorf("still mounted under %s: %v (%v)", s.RunDir, mounts, err))
	}
	if s.Bridge != "" && linkExists(s.Bridge) {
		errs = append(errs, fmt.Errorf("interface %s still exists", s.Bridge))
	}
	routes, err := hostRoutes()
	if err != nil {
		errs = append(errs, err)
	} else if added, removed := diffLines(s.Routes, routes); len(added)+len(removed) > 0 {
		errs = append(errs, fmt.Errorf("host routes changed: added %q, removed %q", added, removed))
	}
	procs := s.Procs
	if earlier {
		procs = append(append([]procRecord{}, s.ControlPlane...), s.Procs...)
	}
	for _, p := range procs {
		if alive(p) {
			errs = append(errs, fmt.Errorf("%s (pid %d) still runs", p.Name, p.PID))
		}
	}
	return errors.Join(errs...)
}

func sysctlPath(key string) string {
	return filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
}

func readSysctl(key string) (string, error) {
	b, err := os.ReadFile(sysctlPath(key))
	if err != nil {
		return "", fmt.Errorf("reading sysctl %s: %w", key, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func writeSysctl(key, v string) error {
	if err := os.WriteFile(sysctlPath(key), []byte(v), 0o644); err != nil {
		return fmt.Errorf("restoring sysctl %s=%s: %w", key, v, err)
	}
	return nil
}

// cgroupHierarchies are the mount points of every cgroup hierarchy (v1 controllers, the named
// systemd one, and the unified v2 tree).
func cgroupHierarchies() ([]string, error) {
	mounts, err := readMountinfo()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range mounts {
		if m.fstype == "cgroup" || m.fstype == "cgroup2" {
			out = append(out, m.point)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no cgroup hierarchy is mounted")
	}
	return out, nil
}

// trackHierarchy picks the hierarchy the tracking cgroup lives in: cgroup v1's pids controller
// (every process is in exactly one of its cgroups), else the v2 tree.
func trackHierarchy(hier []string) (string, error) {
	for _, h := range hier {
		if filepath.Base(h) == "pids" {
			return h, nil
		}
	}
	for _, h := range hier {
		if _, err := os.Stat(filepath.Join(h, "cgroup.controllers")); err == nil {
			return h, nil
		}
	}
	return "", fmt.Errorf("no pids (v1) or unified (v2) cgroup hierarchy among %v", hier)
}

// killCgroupTree SIGKILLs every process in cg and below, and waits until they are gone.
func killCgroupTree(cg string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		pids, err := cgroupPIDs(cg)
		if err != nil || len(pids) == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v in %s survive SIGKILL", pids, cg)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(PollInterval)
	}
}

// cgroupPIDs lists the live (non-zombie) processes in cg and its descendants.
func cgroupPIDs(cg string) ([]int, error) {
	var pids []int
	err := filepath.WalkDir(cg, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || !d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		if err != nil {
			return nil // removed meanwhile
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && !zombie(pid) {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids, err
}

// removeCgroupTree removes cg and its descendants, deepest first. A cgroup whose last process is
// still exiting refuses rmdir (EBUSY) for a moment: retry under a deadline.
func removeCgroupTree(cg string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		var dirs []string
		_ = filepath.WalkDir(cg, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		if len(dirs) == 0 {
			return nil
		}
		var last error
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := syscall.Rmdir(dirs[i]); err != nil && !errors.Is(err, syscall.ENOENT) {
				last = fmt.Errorf("removing cgroup %s: %w", dirs[i], err)
			}
		}
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return last
		}
		time.Sleep(PollInterval)
	}
}

// removeCreated removes a host folder that did not exist before the run, unless something is
// mounted below it (removing through a mount would delete what the mount shows).
func removeCreated(p string) error {
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if m, err := mountsUnder(p); err != nil || len(m) > 0 {
		return fmt.Errorf("not removing %s: mounts below it %v (%v)", p, m, err)
	}
	if err := os.RemoveAll(p); err != nil {
		return fmt.Errorf("removing %s (created by the node run): %w", p, err)
	}
	return nil
}

// stopRecorded ends a recorded daemon of this or an earlier run: SIGTERM, then SIGKILL after
// grace, only while its PID still runs the recorded binary.
func stopRecorded(p procRecord, grace time.Duration) error {
	if !alive(p) {
		return nil
	}
	_ = syscall.Kill(p.PID, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for alive(p) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(p.PID, syscall.SIGKILL)
			if err := waitGone(p, 10*time.Second); err != nil {
				return err
			}
			return fmt.Errorf("%s (pid %d) ignored SIGTERM for %s and was killed", p.Name, p.PID, grace)
		}
		time.Sleep(PollInterval)
	}
	return nil
}

func waitGone(p procRecord, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for alive(p) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (pid %d) survives SIGKILL", p.Name, p.PID)
		}
		time.Sleep(PollInterval)
	}
	return nil
}

// alive: the PID runs the recorded binary and has not exited (a zombie has).
func alive(p procRecord) bool {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.PID))
	if err != nil {
		return false
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	return exe == p.Binary && !zombie(p.PID)
}

// zombie reports whether pid has exited and waits to be reaped (state Z in /proc/PID/stat).
func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // gone
	}
	// The command name is in parentheses and may contain spaces; the state follows the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X'
}

// mount is one line of /proc/self/mountinfo.
type mount struct{ point, fstype string }

func readMountinfo() ([]mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("reading mounts: %w", err)
	}
	defer f.Close()
	return parseMountinfo(f)
}

// parseMountinfo reads the mount point and filesystem type of each line of a mountinfo file.
func parseMountinfo(r io.Reader) ([]mount, error) {
	var out []mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superopts
		fields := strings.Fields(sc.Text())
		sep := slices.Index(fields, "-")
		if len(fields) < 5 || sep < 5 || sep+1 >= len(fields) {
			continue
		}
		out = append(out, mount{point: unescapeMount(fields[4]), fstype: fields[sep+1]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading mounts: %w", err)
	}
	return out, nil
}

// unescapeMount decodes mountinfo's octal escapes (\040 is a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	mounts, err := readMountinfo()
	if err != nil {
		return nil, err
	}
	return pointsUnder(mounts, dir), nil
}

// pointsUnder lists the mount points at or below dir, deepest first; a point mounted twice
// (stacked) appears twice, as it takes two unmounts.
func pointsUnder(mounts []mount, dir string) []string {
	var out []string
	for _, m := range mounts {
		if m.point == dir || strings.HasPrefix(m.point, dir+"/") {
			out = append(out, m.point)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	return out
}

// unmountUnder detaches every mount at or below dir (ConfigMap and token volumes, container
// root filesystems, network namespaces, shm), deepest first, until none is left.
func unmountUnder(dir string) error {
	for range 5 {
		mounts, err := mountsUnder(dir)
		if err != nil || len(mounts) == 0 {
			return err
		}
		for _, m := range mounts {
			_ = syscall.Unmount(m, syscall.MNT_DETACH)
		}
	}
	if left, _ := mountsUnder(dir); len(left) > 0 {
		return fmt.Errorf("cannot unmount %v", left)
	}
	return nil
}

// diffLines returns the lines of b not in a, and of a not in b.
func diffLines(a, b []string) (added, removed []string) {
	for _, l := range b {
		if !slices.Contains(a, l) {
			added = append(added, l)
		}
	}
	for _, l := range a {
		if !slices.Contains(b, l) {
			removed = append(removed, l)
		}
	}
	return added, removed
}

// childrenRunning lists this process's children whose executable is one of binaries: the
// control plane's etcd and kube-apiserver, which envtest starts without recording them anywhere
// a later run could find.
func childrenRunning(binaries ...string) []procRecord {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []procRecord
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: the fields after the last ')'.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(self) {
			continue
		}
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil {
			continue
		}
		for _, bin := range binaries {
			if bin = realPath(bin); exe == bin {
				out = append(out, procRecord{Name: filepath.Base(bin), PID: pid, Binary: bin})
			}
		}
	}
	return out
}
