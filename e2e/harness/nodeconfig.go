package harness

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"
)

// NodeName is the e2e node's name and, given to kubelet as --hostname-override, its InternalIP:
// kubelet refuses a loopback --node-ip, but an IP given as the hostname becomes the Node's
// address, so the API server reaches kubelet (logs, exec) on loopback.
const NodeName = "127.0.0.1"

// The images the node runs without a registry, built by hack/image (`image node`; the names are
// defined there too; these must match).
const (
	PauseImage     = "localhost/tilt-lib-injector-e2e/pause:1"
	WorkspaceImage = "localhost/tilt-lib-injector-e2e/workspace:1"
)

// layout is where a node run keeps everything, all under one folder (Dir/run) that the next run
// may wipe once nothing is mounted there.
type layout struct {
	Run                      string // the run folder
	Assets                   string // the tools folder (kubelet, containerd, runc, cni/)
	PodCIDR                  *net.IPNet
	Bridge                   string
	KubeletPort, HealthzPort int
	APIServerPort            int // on the gateway address
}

func (l layout) path(elem ...string) string {
	return filepath.Join(append([]string{l.Run}, elem...)...)
}

// The files and folders of a run.
func (l layout) containerdSocket() string { return l.path("containerd.sock") }
func (l layout) containerdRoot() string   { return l.path("containerd", "root") }
func (l layout) containerdState() string  { return l.path("containerd", "state") }
func (l layout) cniConfDir() string       { return l.path("cni", "net.d") }
func (l layout) kubeletRoot() string      { return l.path("kubelet") }
func (l layout) pki(name string) string   { return l.path("pki", name) }
func (l layout) log(name string) string   { return l.path("logs", name+".log") }

// maxShimSocketDir is containerd's limit on its shim socket folder (a unix socket path holds 108
// bytes, the socket's name takes 64 of them).
const maxShimSocketDir = 42

// shimSocketDir is where containerd's shims put their sockets: in the run folder when its path is
// short enough, else containerd's default (/run/containerd/s, removed by the teardown).
func (l layout) shimSocketDir() string {
	if d := l.path("s"); len(d) <= maxShimSocketDir {
		return d
	}
	return ""
}

// gateway is the bridge's address: the first of the Pod range. Host-local hands out the rest.
func (l layout) gateway() net.IP {
	ip := make(net.IP, len(l.PodCIDR.IP.To4()))
	copy(ip, l.PodCIDR.IP.To4())
	ip[len(ip)-1]++
	return ip
}

// containerdConfig is containerd's config (version 3, containerd 2.x). Everything it writes lives
// under the run folder (root, state, the sockets, network namespaces, runc's state); only the
// CRI plugin and what it needs run; nothing listens on TCP but the streaming server on loopback.
//
// restrict_oom_score_adj is essential here: root in this VM lacks CAP_SYS_RESOURCE, so writing a
// lower oom_score_adj fails and every sandbox with it ("can't get final child's PID from pipe").
func containerdConfig(l layout) string {
	q := strconv.Quote
	return fmt.Sprintf(`version = 3
root = %s
state = %s
disabled_plugins = [
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile",
  "io.containerd.snapshotter.v1.erofs",
  "io.containerd.nri.v1.nri", "io.containerd.internal.v1.opt",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing",
  "io.containerd.image-verifier.v1.bindir",
]

[grpc]
  address = %s

[ttrpc]
  address = %s

[debug]
  address = ""

[metrics]
  address = ""

[plugins.'io.containerd.shim.v1.manager']
  socket_dir = %s

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = %s

[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  disable_apparmor = true
  cdi_spec_dirs = []
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = %s
        Root = %s
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = [%s]
    conf_dir = %s
    max_conf_num = 1

[plugins.'io.containerd.grpc.v1.cri']
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
`,
		q(l.containerdRoot()), q(l.containerdState()),
		q(l.containerdSocket()), q(l.containerdSocket()+".ttrpc"),
		q(l.shimSocketDir()),
		q(PauseImage),
		q(filepath.Join(l.Assets, "runc")), q(l.path("runc")),
		q(filepath.Join(l.Assets, "cni")), q(l.cniConfDir()))
}

// cniConfig is the Pod network: a bridge that exists only on this machine. The harness creates
// the bridge with the gateway address itself, so the plugin neither enables IP forwarding (it
// would with isGateway) nor masquerades; host-local gives Pods an address and no routes beyond
// their subnet, so a Pod has no default route and nothing it sends can leave the machine.
func cniConfig(l layout) ([]byte, error) {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "tilt-lib-injector-e2e",
		"plugins": []any{
			map[string]any{
				"type":      "bridge",
				"bridge":    l.Bridge,
				"isGateway": false,
				"ipMasq":    false,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": l.path("cni", "ipam"),
					"ranges": [][]map[string]string{{{
						"subnet":  l.PodCIDR.String(),
						"gateway": l.gateway().String(),
					}}},
				},
			},
			map[string]any{"type": "loopback"},
		},
	}
	return json.MarshalIndent(conf, "", "  ")
}

// kubeletConfig is the KubeletConfiguration. Settings that matter here:
//   - cgroup v1 (this VM) needs failCgroupV1: false from 1.35 on; cgroupfs, as containerd.
//   - ConfigMap volumes follow updates by watch; syncFrequency bounds how late a running Pod's
//     volumes are refreshed (the update latency the e2e measures).
//   - Serving on 127.0.0.1 only, TLS with the harness's certificate, clients authenticated by the
//     harness's CA (the API server) or by token review, authorized by the API server.
//   - Eviction and image GC effectively off: a busy developer disk must not evict the test Pods.
//   - Every folder kubelet would create on the host (pod logs, volume plugins) moved to the run
//     folder.
func kubeletConfig(l layout, syncFrequency time.Duration) ([]byte, error) {
	conf := map[string]any{
		"apiVersion":         "kubelet.config.k8s.io/v1beta1",
		"kind":               "KubeletConfiguration",
		"address":            "127.0.0.1",
		"port":               l.KubeletPort,
		"readOnlyPort":       0,
		"healthzBindAddress": "127.0.0.1",
		"healthzPort":        l.HealthzPort,
		"tlsCertFile":        l.pki("kubelet.crt"),
		"tlsPrivateKeyFile":  l.pki("kubelet.key"),
		"rotateCertificates": false,
		"serverTLSBootstrap": false,
		"authentication": map[string]any{
			"anonymous": map[string]any{"enabled": false},
			"webhook":   map[string]any{"enabled": true},
			"x509":      map[string]any{"clientCAFile": l.pki("ca.crt")},
		},
		"authorization":            map[string]any{"mode": "Webhook"},
		"cgroupDriver":             "cgroupfs",
		"failCgroupV1":             false,
		"failSwapOn":               false,
		"containerRuntimeEndpoint": "unix://" + l.containerdSocket(),
		"configMapAndSecretChangeDetectionStrategy": "Watch",
		"syncFrequency":               syncFrequency.String(),
		"podLogsDir":                  l.path("pod-logs"),
		"volumePluginDir":             l.path("volume-plugins"),
		"resolvConf":                  "/etc/resolv.conf",
		"evictionHard":                map[string]string{"memory.available": "1Mi", "nodefs.available": "0%", "nodefs.inodesFree": "0%", "imagefs.available": "0%"},
		"imageGCHighThresholdPercent": 100,
		"imageGCLowThresholdPercent":  99,
		"serializeImagePulls":         false,
		"maxPods":                     50,
		"shutdownGracePeriod":         "0s",
		"staticPodPath":               "",
		"nodeStatusUpdateFrequency":   "2s",
	}
	return json.MarshalIndent(conf, "", "  ")
}

// kubeletArgs are kubelet's flags (what the config file cannot say).
func kubeletArgs(l layout, kubeconfig string) []string {
	return []string{
		"--config=" + l.path("kubelet-config.json"),
		"--kubeconfig=" + kubeconfig,
		"--root-dir=" + l.kubeletRoot(),
		"--hostname-override=" + NodeName,
		"--v=2",
	}
}

// controllerManagerArgs: each controller with its own ServiceAccount's token (as clusters run
// it), no leader election, no serving port, FlexVolume plugins looked for in the run folder
// (the default folder under /usr/libexec would be created).
func controllerManagerArgs(l layout, kubeconfig, rootCA string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--flex-volume-plugin-dir=" + l.path("volume-plugins"),
		"--use-service-account-credentials=true",
		"--root-ca-file=" + rootCA,
		"--leader-elect=false",
		"--secure-port=0",
		"--controllers=*",
		"--v=1",
	}
}

func schedulerArgs(kubeconfig string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--v=1",
	}
}

// nodeAPIServerFlags are what the API server needs to talk to this kubelet (logs, exec) on
// loopback with mutual TLS, and to authorize kubelets as clusters do (Node authorizer,
// NodeRestriction). ServiceAccount admission, off in envtest's defaults because nothing there
// creates the default ServiceAccount, is back on: the controller-manager does.
func nodeAPIServerFlags(l layout) map[string]string {
	return map[string]string{
		"kubelet-client-certificate":      l.pki("apiserver-kubelet-client.crt"),
		"kubelet-client-key":              l.pki("apiserver-kubelet-client.key"),
		"kubelet-certificate-authority":   l.pki("ca.crt"),
		"kubelet-preferred-address-types": "InternalIP,Hostname",
		"authorization-mode":              "Node,RBAC",
		"enable-admission-plugins":        "NodeRestriction",
		"disable-admission-plugins":       "",
	}
}
