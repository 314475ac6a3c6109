package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// hostFolders are folders containerd, kubelet, the controller-manager and the CNI plugins create
// by default. The harness points what it can into the run folder; four cannot be moved and do
// appear during a run: /var/lib/cni (containerd's CNI result cache), /var/lib/kubelet
// (kubelet's device-plugin socket), /var/log/containers (kubelet's log symlinks) and, with a long
// TMPDIR, /run/containerd (shim sockets). One that did not exist before the run is removed at
// teardown, and the check after it fails if any is left.
var hostFolders = []string{
	"/run/containerd", "/var/lib/containerd", "/etc/containerd", "/opt/containerd",
	"/run/nri", "/etc/nri", "/var/run/cdi", "/etc/cdi",
	"/var/lib/cni", "/etc/cni", "/opt/cni", "/run/netns",
	"/var/lib/kubelet", "/var/log/pods", "/var/log/containers", "/etc/kubernetes",
	"/usr/libexec/kubernetes", "/run/kubernetes",
}

// nodeCgroups are the top-level cgroups kubelet (kubepods) and containerd (k8s.io) create.
var nodeCgroups = []string{"kubepods", "k8s.io"}

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
