package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// daemon is one long-running node component (containerd, kubelet, controller-manager,
// scheduler) started by the harness.
type daemon struct {
	rec  procRecord
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has been waited for
	err  error         // its exit error, valid after done
}

// startDaemon runs binary with args, its output appended to logPath, inside the tracking cgroup
// from its first instruction: a shell writes its own PID into the cgroup and then execs the
// binary (same PID), so nothing the daemon forks can escape the record. The kernel sends it
// SIGTERM if the harness dies (Pdeathsig); the next run's start cleans up the rest.
func startDaemon(name, binary string, args, env []string, logPath, trackCgroup string) (*daemon, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	fmt.Fprintf(log, "\n===== harness: starting %s %v\n", binary, args)
	script := `echo $$ > "$TILTLIB_TRACK_CGROUP/cgroup.procs" && exec "$0" "$@"`
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, binary}, args...)...)
	cmd.Env = append(append(os.Environ(), env...), "TILTLIB_TRACK_CGROUP="+trackCgroup)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	d := &daemon{rec: procRecord{Name: name, PID: cmd.Process.Pid, Binary: realPath(binary)}, cmd: cmd, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		_ = log.Close()
		close(d.done)
	}()
	return d, nil
}

// exited reports whether the process has ended, and how.
func (d *daemon) exited() (bool, error) {
	select {
	case <-d.done:
		return true, d.err
	default:
		return false, nil
	}
}

// stop sends SIGTERM by PID and waits; after grace, SIGKILL.
func (d *daemon) stop(grace time.Duration) error {
	if ended, _ := d.exited(); ended {
		return nil
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signalling %s pid %d: %w", d.rec.Name, d.rec.PID, err)
	}
	select {
	case <-d.done:
		return nil
	case <-time.After(grace):
		_ = d.cmd.Process.Kill()
		<-d.done
		return fmt.Errorf("%s pid %d ignored SIGTERM for %s and was killed", d.rec.Name, d.rec.PID, grace)
	}
}

// realPath is p as /proc/PID/exe shows it: absolute, symlinks resolved.
func realPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	return p
}
