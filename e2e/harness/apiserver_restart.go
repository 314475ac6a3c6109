package harness

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// envtest cannot restart its API server with the same identity: its Stop removes the generated
// certificate directory, and its next Start makes a new serving CA and a new client CA, so every
// kubeconfig written before (the admin's, the webhooks') stops working. A restart that a cluster
// would see — the same flags, certificates and etcd, the process gone for a while — is done here
// instead: StopAPIServer ends the running kube-apiserver (envtest's or ours) by PID, after reading
// its command line from /proc; StartAPIServer runs the same binary with that command line again.

// apiServerProc is a kube-apiserver the harness restarted itself.
type apiServerProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// EtcdURL is the client URL of the control plane's etcd (plain HTTP on 127.0.0.1).
func (cp *ControlPlane) EtcdURL() *url.URL { return cp.env.ControlPlane.Etcd.URL }

// APIServerPID is the PID of the running kube-apiserver: the one envtest started, or the last one
// StartAPIServer started.
func (cp *ControlPlane) APIServerPID() (int, error) {
	if cp.apiProc != nil {
		select {
		case <-cp.apiProc.done:
			return 0, errors.New("kube-apiserver (restarted by the harness) has exited")
		default:
			return cp.apiProc.cmd.Process.Pid, nil
		}
	}
	return apiServerChild(filepath.Join(cp.AssetsDir, "kube-apiserver"), cp.env.ControlPlane.APIServer.CertDir)
}

// StopAPIServer sends SIGTERM to the running kube-apiserver, by PID, and waits up to grace for it
// to exit, then sends SIGKILL (killed reports that) and waits for it to be gone. kube-apiserver's
// graceful shutdown waits up to a minute for open connections (secure_serving.go), which a webhook's
// watches keep open: callers that want a short outage pass a short grace. etcd keeps running. The
// command line is kept for StartAPIServer.
func (cp *ControlPlane) StopAPIServer(grace time.Duration) (killed bool, err error) {
	pid, err := cp.APIServerPID()
	if err != nil {
		return false, err
	}
	if cp.apiArgs == nil {
		if cp.apiArgs, err = cmdline(pid); err != nil {
			return false, err
		}
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return false, fmt.Errorf("signalling kube-apiserver pid %d: %w", pid, err)
	}
	gone := func() bool {
		if cp.apiProc != nil {
			select {
			case <-cp.apiProc.done:
				return true
			default:
				return false
			}
		}
		// envtest's own goroutine reaps its process; until then it is a zombie.
		return zombie(pid)
	}
	deadline := time.Now().Add(grace)
	for !gone() {
		if !killed && time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			killed, deadline = true, time.Now().Add(30*time.Second)
		} else if killed && time.Now().After(deadline) {
			return true, fmt.Errorf("kube-apiserver pid %d survives SIGKILL", pid)
		}
		time.Sleep(PollInterval)
	}
	return killed, nil
}

// StartAPIServer runs kube-apiserver again with the command line StopAPIServer read, appending
// its output to kube-apiserver.log in logDir, and waits until /readyz answers 200 through the
// admin client. The process dies with the test (parent-death signal) and Stop ends it.
func (cp *ControlPlane) StartAPIServer(ctx context.Context, logDir string, timeout time.Duration) error {
	if cp.apiArgs == nil {
		return errors.New("StartAPIServer before StopAPIServer: no command line to run")
	}
	log, err := os.OpenFile(filepath.Join(logDir, "kube-apiserver.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("kube-apiserver log: %w", err)
	}
	fmt.Fprintf(log, "\n===== harness: restarting %s\n", strings.Join(cp.apiArgs, " "))
	cmd := exec.Command(cp.apiArgs[0], cp.apiArgs[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return fmt.Errorf("restarting kube-apiserver: %w", err)
	}
	p := &apiServerProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		close(p.done)
	}()
	cp.apiProc = p
	err = Poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		select {
		case <-p.done:
			return false, fmt.Errorf("kube-apiserver exited while starting again; see %s", filepath.Join(logDir, "kube-apiserver.log"))
		default:
		}
		body, err := cp.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	})
	if err != nil {
		return fmt.Errorf("kube-apiserver not ready again: %w", err)
	}
	return nil
}

// stopRestarted ends a kube-apiserver StartAPIServer started (Stop calls it before envtest's).
func (cp *ControlPlane) stopRestarted() error {
	p := cp.apiProc
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("kube-apiserver pid %d ignored SIGTERM for 30s and was killed", p.cmd.Process.Pid)
	}
}
