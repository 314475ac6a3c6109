package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Processes of a node run: ending recorded ones by PID, telling exited and recycled PIDs apart.

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
