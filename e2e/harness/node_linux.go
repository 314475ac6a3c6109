package harness

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Node is a real Kubernetes node on this machine beside the harness's control plane: containerd
// (with runc and a host-only CNI bridge), kubelet, kube-controller-manager and kube-scheduler.
// PrepareNode checks the host, undoes an interrupted earlier run, records the host's state and
// creates the certificates, the Pod bridge and the images; the API server then starts with
// APIServerFlags on APIServerAddr; Start
// runs the components and waits for the Node to be Ready; Stop ends them and restores the host.
type Node struct {
	o       NodeOptions
	lay     layout
	state   *nodeState
	lock    *os.File
	daemons []*daemon
	// Images are the OCI tarballs built for the node (pause, workspace, webhook), imported at Start.
	images []string
}

// PrepareNode readies the machine for a node. It needs root (NodeUnavailable says why not).
func PrepareNode(ctx context.Context, o NodeOptions) (n *Node, err error) {
	o = o.withDefaults()
	if why := NodeUnavailable(o.AssetsDir); why != "" {
		return nil, errors.New(why)
	}
	_, cidr, err := net.ParseCIDR(o.PodCIDR)
	if err != nil || cidr.IP.To4() == nil {
		return nil, fmt.Errorf("PodCIDR %q: want an IPv4 CIDR", o.PodCIDR)
	}
	n = &Node{o: o, lay: layout{Run: filepath.Join(o.Dir, "run"), Assets: o.AssetsDir, PodCIDR: cidr, Bridge: o.Bridge}}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("node dir: %w", err)
	}
	if n.lock, err = lockDir(o.Dir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, n.Stop())
		}
	}()
	start := time.Now()
	if err := n.undoEarlierRun(); err != nil {
		return n, err
	}
	if n.state, err = snapshotHost(n.lay.Run, o.Bridge); err != nil {
		return n, err
	}
	if r := overlappingRoute(n.state.Routes, cidr); r != "" {
		n.state = nil // nothing changed yet: nothing to undo
		return n, fmt.Errorf("the Pod range %s overlaps the host route %q: pick another NodeOptions.PodCIDR", cidr, r)
	}
	if err := n.state.save(o.Dir); err != nil {
		return n, err
	}
	o.Logf("node: host state recorded in %s (%s)", filepath.Join(o.Dir, stateFile), time.Since(start).Round(time.Millisecond))
	if err := os.MkdirAll(n.lay.path("logs"), 0o700); err != nil {
		return n, fmt.Errorf("node run dir: %w", err)
	}
	if n.lay.KubeletPort, err = FreePort("127.0.0.1"); err != nil {
		return n, err
	}
	if n.lay.HealthzPort, err = FreePort("127.0.0.1"); err != nil {
		return n, err
	}
	if err := writeNodePKI(n.lay.path("pki")); err != nil {
		return n, err
	}
	// The bridge exists before the control plane: the API server serves on its gateway address
	// (APIServerAddr), which Pods reach; the state file above already records how to remove it.
	if err := createBridge(o.Bridge, n.lay.gateway(), n.lay.PodCIDR); err != nil {
		return n, err
	}
	if n.lay.APIServerPort, err = FreePort(n.lay.gateway().String()); err != nil {
		return n, err
	}
	start = time.Now()
	if n.images, err = buildNodeImages(ctx, o.AssetsDir, n.lay.path("images")); err != nil {
		return n, err
	}
	o.Logf("node: pause, workspace and webhook images built (%s)", time.Since(start).Round(time.Millisecond))
	return n, nil
}

// undoEarlierRun restores what an interrupted run left (its state file says what), refuses to go
// on when the host still differs from before that run, and empties the run folder.
func (n *Node) undoEarlierRun() error {
	old, err := loadState(n.o.Dir)
	if err != nil {
		return err
	}
	if old != nil {
		start := time.Now()
		undoErr := old.undo(true)
		if err := old.verify(true); err != nil {
			return fmt.Errorf("an earlier node run left the host changed and it could not be restored (state in %s): %w",
				filepath.Join(n.o.Dir, stateFile), errors.Join(undoErr, err))
		}
		if err := removeState(n.o.Dir); err != nil {
			return err
		}
		n.o.Logf("node: undid what an earlier run left behind (%d processes, %s)", len(old.Procs), time.Since(start).Round(time.Millisecond))
	}
	return n.wipeRun()
}

// wipeRun moves the previous run folder (its logs explain a failure) to run.prev, replacing the
// one before; it refuses while anything is mounted below it.
func (n *Node) wipeRun() error {
	if m, err := mountsUnder(n.lay.Run); err != nil || len(m) > 0 {
		return fmt.Errorf("not removing %s: still mounted there %v (%v)", n.lay.Run, m, err)
	}
	prev := n.lay.Run + ".prev"
	if err := os.RemoveAll(prev); err != nil {
		return fmt.Errorf("removing the run folder before the previous one: %w", err)
	}
	if err := os.Rename(n.lay.Run, prev); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("keeping the previous run folder: %w", err)
	}
	return nil
}

// APIServerFlags are the kube-apiserver flags the node needs (Options.APIServerFlags).
func (n *Node) APIServerFlags() map[string]string { return nodeAPIServerFlags(n.lay) }

// APIServerAddr is where the API server must serve (Options.APIServerAddr) for Pods to reach it:
// the Pod bridge's gateway address, on a port free there. The bridge is host-only (no uplink, no
// forwarding, no masquerade), so this address too is reachable from this machine only. A Pod
// reaches the API server there with in-cluster config once its KUBERNETES_SERVICE_HOST/PORT say
// so: the `kubernetes` Service's ClusterIP is a loopback address, which inside a Pod is the Pod.
func (n *Node) APIServerAddr() *net.TCPAddr {
	return &net.TCPAddr{IP: n.lay.gateway(), Port: n.lay.APIServerPort}
}

// LogDir holds containerd.log, kubelet.log, kube-controller-manager.log, kube-scheduler.log
// (the next run moves them to <Dir>/run.prev/logs).
func (n *Node) LogDir() string { return n.lay.path("logs") }

// SyncFrequency is kubelet's syncFrequency.
func (n *Node) SyncFrequency() time.Duration { return n.o.SyncFrequency }

// Start runs containerd (and imports the images), kubelet, kube-controller-manager and
// kube-scheduler against cp, and waits until the Node is Ready.
func (n *Node) Start(ctx context.Context, cp *ControlPlane) error {
	start := time.Now()
	n.state.ControlPlane = childrenRunning(filepath.Join(cp.AssetsDir, "etcd"), filepath.Join(cp.AssetsDir, "kube-apiserver"))
	if err := n.state.save(n.o.Dir); err != nil {
		return err
	}
	if err := n.writeConfigs(cp); err != nil {
		return err
	}
	if err := n.startContainerd(ctx); err != nil {
		return err
	}
	for _, img := range n.images {
		if err := n.ImportImage(ctx, img); err != nil {
			return err
		}
	}
	n.o.Logf("node: containerd up, images imported (%s)", time.Since(start).Round(time.Millisecond))
	components := []struct {
		name string
		args []string
	}{
		{"kubelet", kubeletArgs(n.lay, n.lay.path("kubelet.kubeconfig"))},
		{"kube-controller-manager", controllerManagerArgs(n.lay, n.lay.path("kube-controller-manager.kubeconfig"), n.lay.pki("apiserver-ca.crt"))},
		{"kube-scheduler", schedulerArgs(n.lay.path("kube-scheduler.kubeconfig"))},
	}
	for _, c := range components {
		if err := n.run(c.name, c.args, nil); err != nil {
			return err
		}
	}
	if err := n.waitReady(ctx, cp); err != nil {
		return err
	}
	n.o.Logf("node: %s Ready (%s since Start)", NodeName, time.Since(start).Round(time.Millisecond))
	return nil
}

// writeConfigs writes the components' kubeconfigs (each its own identity, as clusters run them),
// containerd's config, the CNI config and kubelet's config.
func (n *Node) writeConfigs(cp *ControlPlane) error {
	identities := []struct {
		file, user string
		groups     []string
	}{
		{"kubelet.kubeconfig", "system:node:" + NodeName, []string{"system:nodes"}},
		{"kube-controller-manager.kubeconfig", "system:kube-controller-manager", nil},
		{"kube-scheduler.kubeconfig", "system:kube-scheduler", nil},
	}
	for _, id := range identities {
		if err := cp.UserKubeconfig(n.lay.path(id.file), id.user, id.groups...); err != nil {
			return err
		}
	}
	if err := os.WriteFile(n.lay.pki("apiserver-ca.crt"), cp.Config.CAData, 0o600); err != nil {
		return fmt.Errorf("writing the API server CA: %w", err)
	}
	cni, err := cniConfig(n.lay)
	if err != nil {
		return err
	}
	kubelet, err := kubeletConfig(n.lay, n.o.SyncFrequency)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(n.lay.cniConfDir(), 0o700); err != nil {
		return fmt.Errorf("CNI config dir: %w", err)
	}
	files := map[string][]byte{
		n.lay.path("containerd.toml"):                             []byte(containerdConfig(n.lay)),
		filepath.Join(n.lay.cniConfDir(), "10-tilt-lib.conflist"): cni,
		n.lay.path("kubelet-config.json"):                         kubelet,
	}
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}

// run starts a component, records it in the state file, and checks that it did not exit at once.
func (n *Node) run(name string, args, env []string) error {
	d, err := startDaemon(name, filepath.Join(n.o.AssetsDir, name), args, env, n.lay.log(name), n.state.TrackCgroup)
	if err != nil {
		return err
	}
	n.daemons = append(n.daemons, d)
	n.state.Procs = append(n.state.Procs, d.rec)
	return n.state.save(n.o.Dir)
}

// startContainerd runs containerd (its shims found on PATH, in the tools folder) and waits until
// its socket answers.
func (n *Node) startContainerd(ctx context.Context) error {
	if err := os.MkdirAll(n.state.TrackCgroup, 0o755); err != nil {
		return fmt.Errorf("tracking cgroup: %w", err)
	}
	env := []string{"PATH=" + n.o.AssetsDir + string(os.PathListSeparator) + os.Getenv("PATH")}
	if err := n.run("containerd", []string{"--config", n.lay.path("containerd.toml")}, env); err != nil {
		return err
	}
	d := n.daemons[len(n.daemons)-1]
	err := Poll(ctx, n.o.Timeout, func(ctx context.Context) (bool, error) {
		if ended, err := d.exited(); ended {
			return false, fmt.Errorf("containerd exited (%v); see %s", err, n.lay.log("containerd"))
		}
		_, err := n.ctr(ctx, "version")
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("containerd not answering on %s: %w", n.lay.containerdSocket(), err)
	}
	return nil
}

// ImportImage imports an OCI tarball into containerd's k8s.io namespace (where kubelet's
// images live), for this machine's platform. Pods use it with imagePullPolicy Never.
func (n *Node) ImportImage(ctx context.Context, tarball string) error {
	if _, err := n.ctr(ctx, "-n", "k8s.io", "images", "import", tarball); err != nil {
		return fmt.Errorf("importing %s: %w", tarball, err)
	}
	return nil
}

// ctr runs containerd's CLI against the node's containerd.
func (n *Node) ctr(ctx context.Context, args ...string) (string, error) {
	return runTool(ctx, filepath.Join(n.o.AssetsDir, "ctr"), append([]string{"--address", n.lay.containerdSocket()}, args...)...)
}

// waitReady waits for the Node object to report Ready without a NoSchedule or NoExecute taint, and the components to keep running.
func (n *Node) waitReady(ctx context.Context, cp *ControlPlane) error {
	var last string
	err := Poll(ctx, n.o.Timeout, func(ctx context.Context) (bool, error) {
		for _, d := range n.daemons {
			if ended, err := d.exited(); ended {
				return false, fmt.Errorf("%s exited (%v); see %s", d.rec.Name, err, n.lay.log(d.rec.Name))
			}
		}
		node, err := cp.Client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		// Ready is not enough: the node lifecycle controller removes the not-ready taint a moment
		// later, and a Pod the scheduler meets while the taint is on waits for its unschedulable
		// backoff (a demo's straggler stayed Pending past its 2-minute deadline once).
		for _, t := range node.Spec.Taints {
			if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
				last = fmt.Sprintf("taint %s:%s", t.Key, t.Effect)
				return false, nil
			}
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				last = fmt.Sprintf("Ready=%s: %s", c.Status, c.Message)
				return c.Status == corev1.ConditionTrue, nil
			}
		}
		last = "no Ready condition yet"
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("node %s not Ready (last: %s; logs in %s): %w", NodeName, last, n.LogDir(), err)
	}
	return nil
}

// CheckHostNetwork verifies, while the node runs, that every route added to the host leads into
// the Pod bridge: no default route and nothing that sends Pod traffic off the machine.
func (n *Node) CheckHostNetwork() error { return n.state.checkRoutes() }

// Halt ends the components (kubelet and the controllers first, containerd last), the containers
// and the shims, and leaves the host as it is (the bridge stays) for Stop. Call it before stopping
// the control plane, then Stop: the API server serves on the bridge's address and waits, when
// stopping, for its clients' watches (kubelet's, the controllers', the Pods') to end; ended first,
// their connections close over the bridge, and no packet to the Pod range follows the default
// route because the bridge went first.
func (n *Node) Halt() error {
	var errs []error
	for i := len(n.daemons) - 1; i >= 0; i-- {
		errs = append(errs, n.daemons[i].stop(30*time.Second))
	}
	n.daemons = nil
	if n.state != nil {
		for _, cg := range n.state.Cgroups {
			errs = append(errs, killCgroupTree(cg))
		}
	}
	return errors.Join(errs...)
}

// Stop ends the components (kubelet and the controllers first, containerd last), the containers
// and shims (unless Halt did), and restores the host: mounts, cgroups, the bridge, sysctls, folders. It then
// verifies the host matches the state recorded before the run, and returns every difference.
// Safe on a partly prepared Node; the run's logs stay in LogDir until the next run. Halt, then
// stop the control plane, then Stop: the API server serves on APIServerAddr, which goes with the
// bridge.
func (n *Node) Stop() error {
	errs := []error{n.Halt()}
	if n.state != nil {
		errs = append(errs, n.state.undo(false))
		if err := n.state.verify(false); err != nil {
			errs = append(errs, fmt.Errorf("the host differs from before the node ran: %w", err))
		}
		if err := errors.Join(errs...); err == nil {
			errs = append(errs, n.removeHeavyDirs(), removeState(n.o.Dir))
			n.state = nil
		}
	}
	if n.lock != nil {
		_ = n.lock.Close() // releases the flock
		n.lock = nil
	}
	return errors.Join(errs...)
}

// removeHeavyDirs deletes containerd's and kubelet's data after a clean stop, keeping the logs
// and configs for inspection.
func (n *Node) removeHeavyDirs() error {
	if m, err := mountsUnder(n.lay.Run); err != nil || len(m) > 0 {
		return fmt.Errorf("not removing node data: still mounted %v (%v)", m, err)
	}
	var errs []error
	for _, d := range []string{n.lay.path("containerd"), n.lay.kubeletRoot(), n.lay.path("runc")} {
		errs = append(errs, os.RemoveAll(d))
	}
	return errors.Join(errs...)
}

// lockDir takes an exclusive lock on dir/lock: two node runs on one machine would fight over the
// bridge, cgroups and sysctls. The kernel drops the lock when the process dies.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("node lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("another node run holds %s: %w", filepath.Join(dir, "lock"), err)
	}
	return f, nil
}
