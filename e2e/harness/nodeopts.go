package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// NodeOptions configure a node (PrepareNode). Zero values pick the defaults.
type NodeOptions struct {
	// AssetsDir holds kubelet, kube-controller-manager, kube-scheduler, containerd,
	// containerd-shim-runc-v2, ctr, runc, busybox and cni/; default $KUBEBUILDER_ASSETS.
	AssetsDir string
	// Dir is the node's folder: a fixed path (default $TMPDIR/tli-e2e-node), so that a run finds
	// the state file of an interrupted one and undoes it first. Short, because containerd's shim
	// sockets live under it (42 characters at most), and unlike the harness's work dirs
	// (tilt-lib-injector-*), so that removing those never takes a running node's files. Logs stay
	// in Dir/run until the next run (then Dir/run.prev).
	Dir string
	// SyncFrequency is kubelet's syncFrequency: how often it re-syncs a running Pod, which bounds
	// how late a changed ConfigMap reaches its volume; default 2s.
	SyncFrequency time.Duration
	// PodCIDR is the host-only Pod range; default 10.213.7.0/24. It must overlap no host route.
	PodCIDR string
	// Bridge is the Pod network's bridge; default tli-e2e0.
	Bridge string
	// Timeout bounds each start-up wait (containerd up, Node Ready); default 2m.
	Timeout time.Duration
	// Logf receives one line per start-up step with its duration; default discard.
	Logf func(format string, args ...any)
}

func (o NodeOptions) withDefaults() NodeOptions {
	if o.AssetsDir == "" {
		o.AssetsDir = os.Getenv("KUBEBUILDER_ASSETS")
	}
	if o.Dir == "" {
		o.Dir = filepath.Join(os.TempDir(), "tli-e2e-node")
	}
	if o.SyncFrequency == 0 {
		o.SyncFrequency = 2 * time.Second
	}
	if o.PodCIDR == "" {
		o.PodCIDR = "10.213.7.0/24"
	}
	if o.Bridge == "" {
		o.Bridge = "tli-e2e0"
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// nodeBinaries are the tools a node needs from the assets folder (hack/tools.sh).
var nodeBinaries = []string{
	"kubelet", "kube-controller-manager", "kube-scheduler", "containerd", "containerd-shim-runc-v2",
	"ctr", "runc", "busybox", "cni/bridge", "cni/host-local", "cni/loopback",
}

// NodeUnavailable says in a few words why this machine cannot run the e2e node, "" when it can:
// it needs Linux, root (containerd, kubelet, a bridge, cgroups, mounts) and the node tools.
func NodeUnavailable(assetsDir string) string {
	if runtime.GOOS != "linux" {
		return "a node (containerd + kubelet) runs on Linux only"
	}
	if os.Geteuid() != 0 {
		return "a node (containerd + kubelet) needs root"
	}
	if assetsDir == "" {
		assetsDir = os.Getenv("KUBEBUILDER_ASSETS")
	}
	for _, b := range nodeBinaries {
		if _, err := os.Stat(filepath.Join(assetsDir, b)); err != nil {
			return fmt.Sprintf("the node's %s is missing from %q (run `make tools`)", b, assetsDir)
		}
	}
	return ""
}
