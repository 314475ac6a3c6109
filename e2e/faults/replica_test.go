//go:build e2e && linux

package faults

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// replica is one `webhook serve` process of the binary under test, listening on a loopback address
// of its own: the address its EndpointSlice names, as a Pod IP would be.
type replica struct {
	name string
	ip   net.IP
	port int
	wh   *harness.Webhook
}

func (r *replica) addr() string { return net.JoinHostPort(r.ip.String(), strconv.Itoa(r.port)) }

// newReplica prepares (does not start) replica name on ip, with kubeconfig and the shared flags.
func newReplica(c *cluster, name string, ip net.IP, kubeconfig string) (*replica, error) {
	port, err := harness.FreePort(ip.String())
	if err != nil {
		return nil, err
	}
	metrics, probe, err := harness.SideAddrs()
	if err != nil {
		return nil, err
	}
	svc := harness.Service{Name: c.svc.Name, Namespace: c.svc.Namespace, ClusterIP: ip, Port: port}
	return &replica{name: name, ip: ip, port: port, wh: &harness.Webhook{
		Binary:      c.binary,
		Args:        harness.ServeArgs(kubeconfig, svc, c.cert.Dir, metrics, probe, webhookFlags...),
		Addr:        svc.Addr(),
		ProbeAddr:   probe,
		MetricsAddr: metrics,
		LogPath:     filepath.Join(c.workDir, "webhook-"+name+".log"),
	}}, nil
}

// ready is the kubelet's readiness probe: /readyz answers 200.
func (r *replica) ready(ctx context.Context) bool {
	if !r.wh.Running() {
		return false
	}
	code, _, err := r.wh.Probe(ctx, "/readyz")
	return err == nil && code == 200
}

// kill sends SIGKILL (no drain, no shutdown), as the OOM killer or a node loss would, and waits
// for the process to be gone.
func (r *replica) kill() error {
	if err := r.wh.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	if err := r.wh.Wait(10 * time.Second); err == nil {
		return fmt.Errorf("%s exited cleanly after SIGKILL?", r.name)
	} else if !r.wh.Running() {
		return nil // "signal: killed", as asked; Launch starts it again
	} else {
		return err
	}
}

// rssBytes is the resident set of the running process (VmRSS), 0 when not running.
func (r *replica) rssBytes() (int64, error) {
	pid := r.wh.PID()
	if pid == 0 {
		return 0, nil
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("status of %s (pid %d): %w", r.name, pid, err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS for %s (pid %d)", r.name, pid)
}
