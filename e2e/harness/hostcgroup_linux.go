package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroups of a node run: where they are, what runs in them, removing them.

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
