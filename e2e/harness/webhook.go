package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Webhook is the `webhook serve` subprocess. Start and Stop may be called repeatedly (a restart
// is Stop then Start); every start appends to the same log file.
type Webhook struct {
	// Binary is the built cmd/webhook.
	Binary string
	// Args are the full `serve` arguments.
	Args []string
	// Addr is the host:port the admission server listens on (informational: Args set it).
	Addr string
	// ProbeAddr and MetricsAddr are the loopback host:port of /readyz and /metrics.
	ProbeAddr, MetricsAddr string
	// LogPath receives the process's stdout and stderr.
	LogPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for
	err  error         // cmd.Wait's result, valid after done
}

// Start runs the binary and waits until /readyz answers 200 (caches synced, certificate
// loaded), or the process exits, or timeout passes.
func (w *Webhook) Start(ctx context.Context, timeout time.Duration) error {
	if err := w.Launch(); err != nil {
		return err
	}
	w.mu.Lock()
	done := w.done
	w.mu.Unlock()
	ready := func(ctx context.Context) (bool, error) {
		select {
		case <-done:
			return false, fmt.Errorf("webhook exited before it was ready (%v); see %s", w.exitErr(), w.LogPath)
		default:
		}
		return httpOK(ctx, "http://"+w.ProbeAddr+"/readyz"), nil
	}
	if err := Poll(ctx, timeout, ready); err != nil {
		return errors.Join(fmt.Errorf("webhook not ready at %s/readyz (log: %s): %w", w.ProbeAddr, w.LogPath, err),
			w.Stop(30*time.Second))
	}
	return nil
}

// Launch runs the binary and returns at once, without waiting for it to become ready: for
// tests of a webhook that must never become ready. Start is Launch plus that wait.
func (w *Webhook) Launch() error {
	if w.Running() {
		return errors.New("webhook already running")
	}
	log, err := os.OpenFile(w.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("webhook log: %w", err)
	}
	fmt.Fprintf(log, "\n===== harness: starting %s %v\n", w.Binary, w.Args)
	cmd := exec.Command(w.Binary, w.Args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return fmt.Errorf("starting the webhook: %w", err)
	}
	done := make(chan struct{})
	w.mu.Lock()
	w.cmd, w.done, w.err = cmd, done, nil
	w.mu.Unlock()
	go func() {
		err := cmd.Wait()
		_ = log.Close()
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
		close(done)
	}()
	return nil
}

// Signal sends sig to the running process, by PID (a test that drives shutdown itself; Stop
// is the usual way to end the process).
func (w *Webhook) Signal(sig os.Signal) error {
	w.mu.Lock()
	cmd := w.cmd
	w.mu.Unlock()
	if cmd == nil {
		return errors.New("webhook not running")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signalling webhook pid %d: %w", cmd.Process.Pid, err)
	}
	return nil
}

// Wait waits up to timeout for the process to exit on its own and returns its exit error: nil
// means status 0. It neither signals nor kills; after a timeout the process is still running
// (Stop ends it).
func (w *Webhook) Wait(timeout time.Duration) error {
	w.mu.Lock()
	cmd, done := w.cmd, w.done
	w.mu.Unlock()
	if cmd == nil {
		return errors.New("webhook not running")
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-done:
		return w.exitErr()
	default: // an exited process wins over a zero timeout
	}
	select {
	case <-done:
		return w.exitErr()
	case <-timer.C:
		return fmt.Errorf("webhook pid %d still running after %s", cmd.Process.Pid, timeout)
	}
}

// Probe GETs path (e.g. "/readyz?verbose") on the probe address and returns the status code and
// body.
func (w *Webhook) Probe(ctx context.Context, path string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+w.ProbeAddr+path, nil)
	if err != nil {
		return 0, "", fmt.Errorf("probe request: %w", err)
	}
	resp, err := loopbackHTTP.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("probing %s%s: %w", w.ProbeAddr, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, "", fmt.Errorf("reading %s%s: %w", w.ProbeAddr, path, err)
	}
	return resp.StatusCode, string(body), nil
}

// Stop sends SIGTERM to the process the harness started, by PID, and waits for it to exit; after
// timeout it sends SIGKILL. It returns the exit error of a process that did not shut down
// cleanly (graceful shutdown is part of the contract), and nil if nothing was running.
func (w *Webhook) Stop(timeout time.Duration) error {
	w.mu.Lock()
	cmd, done := w.cmd, w.done
	w.mu.Unlock()
	if cmd == nil {
		return nil
	}
	defer func() {
		w.mu.Lock()
		w.cmd = nil
		w.mu.Unlock()
	}()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signalling webhook pid %d: %w", cmd.Process.Pid, err)
	}
	select {
	case <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("webhook pid %d ignored SIGTERM for %s and was killed", cmd.Process.Pid, timeout)
	}
	if err := w.exitErr(); err != nil {
		return fmt.Errorf("webhook pid %d exited uncleanly after SIGTERM: %w (log: %s)", cmd.Process.Pid, err, w.LogPath)
	}
	return nil
}

// Running reports whether the process is up.
func (w *Webhook) Running() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd == nil {
		return false
	}
	select {
	case <-w.done:
		return false
	default:
		return true
	}
}

// PID of the running process, 0 when none.
func (w *Webhook) PID() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd == nil {
		return 0
	}
	return w.cmd.Process.Pid
}

func (w *Webhook) exitErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// ServeArgs are the `webhook serve` flags that put the server on svc's address with the
// certificate in certDir, probes and metrics on loopback, plus extra.
func ServeArgs(kubeconfig string, svc Service, certDir, metricsAddr, probeAddr string, extra ...string) []string {
	args := []string{
		"serve",
		"--kubeconfig=" + kubeconfig,
		"--bind-address=" + svc.ClusterIP.String(),
		"--port=" + strconv.Itoa(svc.Port),
		"--cert-mode=files",
		"--cert-dir=" + certDir,
		"--metrics-bind-address=" + metricsAddr,
		"--health-probe-bind-address=" + probeAddr,
		"--service-name=" + svc.Name,
		"--service-namespace=" + svc.Namespace,
	}
	return append(args, extra...)
}

// loopbackHTTP never goes through an HTTP(S)_PROXY: every endpoint the harness calls is local.
var loopbackHTTP = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}

// httpOK reports whether GET url answers 200.
func httpOK(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := loopbackHTTP.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
