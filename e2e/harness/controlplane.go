package harness

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ServiceCIDR is the Service IP range of the API server: inside 127.0.0.0/8, so that a ClusterIP
// is a loopback address this machine can listen on and the API server never dials off-host
// (envtest's default 10.0.0.0/24 would).
const ServiceCIDR = "127.0.10.0/24"

// APIServerFlags are the flags the harness sets on top of envtest's defaults (which already bind
// the secure port to 127.0.0.1 and run etcd on 127.0.0.1).
//   - advertise-address: otherwise the API server advertises the host's first interface.
//   - endpoint-reconciler-type=none: the "kubernetes" Endpoints would get the loopback
//     advertise address, which Endpoints validation rejects; nothing here needs them.
var APIServerFlags = map[string]string{
	"service-cluster-ip-range": ServiceCIDR,
	"advertise-address":        "127.0.0.1",
	"endpoint-reconciler-type": "none",
}

// ControlPlane is a running etcd + kube-apiserver and an admin identity for it.
type ControlPlane struct {
	env *envtest.Environment
	// Config is the admin REST config (client certificate in system:masters).
	Config *rest.Config
	// Kubeconfig is the path of a kubeconfig file for that admin (for the webhook and kubectl).
	Kubeconfig string
	// Client is a clientset for Config that discards warnings.
	Client kubernetes.Interface
	// AssetsDir holds etcd, kube-apiserver and kubectl.
	AssetsDir string
	// Admission is the client certificate the API server presents to every webhook (its
	// --admission-control-config-file), for --client-ca. Webhooks without it never ask for it.
	Admission *AdmissionClient
	logs      []io.Closer
	workDir   string
	// apiArgs is the kube-apiserver command line StopAPIServer read; apiProc the process
	// StartAPIServer ran with it (apiserver_restart.go).
	apiArgs []string
	apiProc *apiServerProc
}

// StartControlPlane starts etcd and kube-apiserver from assetsDir (KUBEBUILDER_ASSETS when
// empty), logging their output to files in workDir, and writes workDir/kubeconfig.
func StartControlPlane(assetsDir, workDir string) (*ControlPlane, error) {
	return StartControlPlaneWith(assetsDir, workDir, nil, nil)
}

// StartControlPlaneWith is StartControlPlane with API server flags on top of APIServerFlags
// (a node's, see Node.APIServerFlags; a flag given here wins) and, when serveAt is not nil, the
// API server serving there instead of on a free 127.0.0.1 port (a node's, see
// Node.APIServerAddr); its serving certificate then names that IP too.
func StartControlPlaneWith(assetsDir, workDir string, extraFlags map[string]string, serveAt *net.TCPAddr) (*ControlPlane, error) {
	if assetsDir == "" {
		assetsDir = os.Getenv("KUBEBUILDER_ASSETS")
	}
	if assetsDir == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run `make e2e` / `make demo`, or export KUBEBUILDER_ASSETS=$(hack/tools.sh)")
	}
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(assetsDir, bin)); err != nil {
			return nil, fmt.Errorf("control-plane binary missing (run `make tools`): %w", err)
		}
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assetsDir,
		// A cold kube-apiserver on 2 busy cores (the tests compile in parallel) can need more
		// than envtest's 20s default.
		ControlPlaneStartTimeout: 90 * time.Second,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	api := env.ControlPlane.GetAPIServer()
	if serveAt != nil {
		// envtest keeps an address and port given together, binds there and adds the IP to the
		// serving certificate's SANs.
		api.SecureServing.Address, api.SecureServing.Port = serveAt.IP.String(), strconv.Itoa(serveAt.Port)
	}
	for _, flags := range []map[string]string{APIServerFlags, extraFlags} {
		for flag, value := range flags {
			api.Configure().Set(flag, value)
		}
	}
	admission, err := WriteAdmissionClient(filepath.Join(workDir, "admission"))
	if err != nil {
		return nil, err
	}
	api.Configure().Set("admission-control-config-file", admission.ConfigFile)
	cp := &ControlPlane{env: env, AssetsDir: assetsDir, Admission: admission, workDir: workDir}
	logs := &cp.logs
	api.Out, api.Err = logFile(workDir, "kube-apiserver.log", logs)
	env.ControlPlane.Etcd = &envtest.Etcd{}
	env.ControlPlane.Etcd.Out, env.ControlPlane.Etcd.Err = logFile(workDir, "etcd.log", logs)

	if _, err := env.Start(); err != nil {
		_ = cp.Stop()
		return nil, fmt.Errorf("starting etcd + kube-apiserver (logs in %s): %w", workDir, err)
	}
	if err := cp.checkAddresses(serveAt); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	if err := cp.admin(workDir); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	return cp, nil
}

// admin provisions the admin user and writes its kubeconfig.
func (cp *ControlPlane) admin(workDir string) error {
	user, err := cp.env.AddUser(envtest.User{Name: "tilt-admin", Groups: []string{"system:masters"}},
		&rest.Config{QPS: 500, Burst: 1000})
	if err != nil {
		return fmt.Errorf("adding the admin user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("rendering the admin kubeconfig: %w", err)
	}
	cp.Kubeconfig = filepath.Join(workDir, "kubeconfig")
	if err := os.WriteFile(cp.Kubeconfig, kubeconfig, 0o600); err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	cp.Config = user.Config()
	// The harness's own client never shows warnings (probes in namespaces without ConfigMaps
	// get some by design); tests that assert warnings use WarningClient.
	quiet := rest.CopyConfig(cp.Config)
	quiet.WarningHandlerWithContext = rest.NoWarnings{}
	if cp.Client, err = kubernetes.NewForConfig(quiet); err != nil {
		return fmt.Errorf("admin clientset: %w", err)
	}
	return nil
}

// UserKubeconfig provisions a user (client certificate) with groups and no other grants, and
// writes its kubeconfig to path: for running the webhook with less than the RBAC it needs.
func (cp *ControlPlane) UserKubeconfig(path, name string, groups ...string) error {
	user, err := cp.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return fmt.Errorf("adding user %s: %w", name, err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("rendering the kubeconfig of %s: %w", name, err)
	}
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		return fmt.Errorf("writing the kubeconfig of %s: %w", name, err)
	}
	return nil
}

// Stop stops kube-apiserver and etcd (envtest signals the processes it started, by PID).
func (cp *ControlPlane) Stop() error {
	err := errors.Join(cp.stopRestarted(), cp.env.Stop())
	for _, c := range cp.logs {
		_ = c.Close()
	}
	if err != nil {
		// A stop that timed out (envtest then kills the process) is rare and needs the API
		// server's last words to explain it: which requests or watches it was still draining.
		return fmt.Errorf("stopping the control plane: %w; kube-apiserver.log ends with:\n%s", err,
			tailLines(filepath.Join(cp.workDir, "kube-apiserver.log"), stopLogLines))
	}
	return nil
}

// stopLogLines is how much of the API server's log a failed stop reports.
const stopLogLines = 30

// tailLines returns the last n lines of the file at path, or why it cannot be read.
func tailLines(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// checkAddresses refuses to go on when envtest resolved "localhost" to anything but 127.x: the
// rule is loopback only, and an IPv6 or host address here would break it silently. The one
// exception is an API server address the caller chose (a node's host-only bridge), which must
// then be exactly where it serves.
func (cp *ControlPlane) checkAddresses(serveAt *net.TCPAddr) error {
	api := cp.env.ControlPlane.APIServer.SecureServing
	addrs := map[string]string{"etcd": cp.env.ControlPlane.Etcd.URL.Hostname()}
	if serveAt == nil {
		addrs["kube-apiserver"] = api.Address
	} else if got := net.JoinHostPort(api.Address, api.Port); got != serveAt.String() {
		return fmt.Errorf("kube-apiserver serves on %s, not on the %s asked for", got, serveAt)
	}
	for what, host := range addrs {
		if ip := net.ParseIP(host); ip == nil || ip.To4() == nil || !ip.IsLoopback() {
			return fmt.Errorf("%s listens on %q, not a 127.x address", what, host)
		}
	}
	return nil
}

// ServiceAccountSigningKey is the PEM private key the API server signs ServiceAccount tokens with
// (envtest's, in the API server's cert dir): for minting tokens the TokenRequest API refuses to,
// such as expired ones.
func (cp *ControlPlane) ServiceAccountSigningKey() ([]byte, error) {
	path := filepath.Join(cp.env.ControlPlane.APIServer.CertDir, "sa-signer.key")
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the ServiceAccount signing key: %w", err)
	}
	return key, nil
}

// KubectlPath is the kubectl built with the control plane.
func (cp *ControlPlane) KubectlPath() string { return filepath.Join(cp.AssetsDir, "kubectl") }

// logFile opens workDir/name for a process's output; on failure the output is discarded rather
// than failing the run (logs are a debugging aid).
func logFile(workDir, name string, closers *[]io.Closer) (io.Writer, io.Writer) {
	f, err := os.Create(filepath.Join(workDir, name))
	if err != nil {
		return io.Discard, io.Discard
	}
	*closers = append(*closers, f)
	return f, f
}
