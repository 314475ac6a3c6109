package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// The arms. Ours is the real `webhook serve`; the others are hack/loadtest/arm processes.
const (
	armNone     = "none" // Pod create only: no webhook registered
	armEmpty    = "empty"
	armNaive    = "naive"
	armConstant = "constant"
	armFloor    = "floor" // Pod create only: the constant patch from a bare handler
	armOurs     = "ours"
)

// Where the workspace Pods go: a namespace pinned to tilt-lib-v2, with both ConfigMaps.
const (
	workNamespace  = "team-a"
	injectorNS     = "tilt-lib-injector"
	startupTimeout = 90 * time.Second
)

// published are the ConfigMaps of workNamespace and their version labels (what the naive arm's
// static lookup answers too).
var published = map[string]string{"tilt-lib-v2": "2.0.1", "tilt-templates": "1.1.0"}

// Arm is one running webhook process.
type Arm struct {
	Name    string
	Service harness.Service
	Proc    *harness.Webhook
}

// URL is the admission endpoint of the arm.
func (a *Arm) URL() string { return "https://" + a.Service.Addr() + harness.MutatePath }

// Count is how many admission requests a hack/loadtest/arm process has served.
func (a *Arm) Count(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.Proc.ProbeAddr+"/count", nil)
	if err != nil {
		return 0, fmt.Errorf("count request: %w", err)
	}
	resp, err := loopback.Do(req)
	if err != nil {
		return 0, fmt.Errorf("reading the %s arm's count: %w", a.Name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64))
	if err != nil {
		return 0, fmt.Errorf("reading the %s arm's count: %w", a.Name, err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("the %s arm's count %q: %w", a.Name, b, err)
	}
	return n, nil
}

// comparisonArms are the hack/loadtest/arm processes.
var comparisonArms = []string{armEmpty, armNaive, armConstant, armFloor}

var loopback = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}

// Cluster is the control plane and every arm, all on loopback.
type Cluster struct {
	*harness.ControlPlane
	WorkDir string
	CA      []byte
	Arms    map[string]*Arm
	// Pod is the workspace Pod the create section creates, and Patch our patch for it.
	Pod   *corev1.Pod
	Patch []byte
}

// startCluster builds the binaries, starts etcd + kube-apiserver, the Services, one serving
// certificate for every arm, the fixtures, `webhook serve` and the comparison arms. On error
// it stops what it started.
func startCluster(ctx context.Context, assets, workDir string, createShape reviewtest.Shape) (c *Cluster, err error) {
	c = &Cluster{WorkDir: workDir, Arms: map[string]*Arm{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, c.Stop())
		}
	}()
	root, err := harness.RepoRoot()
	if err != nil {
		return c, err
	}
	ours, arm := filepath.Join(workDir, "bin", "webhook"), filepath.Join(workDir, "bin", "arm")
	built := make(chan error, 1)
	go func() {
		built <- errors.Join(harness.GoBuild(ctx, root, "./cmd/webhook", ours), harness.GoBuild(ctx, root, "./hack/loadtest/arm", arm))
	}()
	cp, cpErr := harness.StartControlPlane(assets, workDir)
	c.ControlPlane = cp
	if buildErr := <-built; buildErr != nil || cpErr != nil {
		return c, errors.Join(buildErr, cpErr)
	}

	services := map[string]string{armOurs: "tilt-lib-injector", armEmpty: "loadtest-empty", armNaive: "loadtest-naive",
		armConstant: "loadtest-constant", armFloor: "loadtest-floor"}
	var names []string
	var ips []net.IP
	for _, a := range append([]string{armOurs}, comparisonArms...) {
		svc, err := harness.CreateService(ctx, cp.Client, injectorNS, services[a])
		if err != nil {
			return c, err
		}
		c.Arms[a] = &Arm{Name: a, Service: svc}
		names = append(names, harness.ServiceDNSNames(svc.Name, svc.Namespace)...)
		ips = append(ips, svc.ClusterIP)
	}
	cert, err := harness.WriteServingCert(filepath.Join(workDir, "certs"), names, ips)
	if err != nil {
		return c, err
	}
	c.CA = cert.CABundle
	if err := c.fixtures(ctx); err != nil {
		return c, err
	}
	c.Pod = reviewtest.WorkspacePod(createShape)
	c.Pod.Namespace = workNamespace

	metricsAddr, probeAddr, err := harness.SideAddrs()
	if err != nil {
		return c, err
	}
	o := c.Arms[armOurs]
	o.Proc = &harness.Webhook{Binary: ours, Addr: o.Service.Addr(), ProbeAddr: probeAddr, MetricsAddr: metricsAddr,
		Args:    harness.ServeArgs(cp.Kubeconfig, o.Service, cert.Dir, metricsAddr, probeAddr),
		LogPath: filepath.Join(workDir, "webhook.log")}
	if err := o.Proc.Start(ctx, startupTimeout); err != nil {
		return c, err
	}
	if c.Patch, err = c.oursPatch(ctx); err != nil {
		return c, err
	}
	patchFile := filepath.Join(workDir, "constant-patch.json")
	if err := os.WriteFile(patchFile, c.Patch, 0o600); err != nil {
		return c, fmt.Errorf("writing the constant patch: %w", err)
	}
	for _, name := range comparisonArms {
		a := c.Arms[name]
		probe, err := harness.FreeAddr()
		if err != nil {
			return c, err
		}
		a.Proc = &harness.Webhook{Binary: arm, Addr: a.Service.Addr(), ProbeAddr: probe, LogPath: filepath.Join(workDir, "arm-"+name+".log"),
			Args: []string{"-mode", name, "-bind-address", a.Service.ClusterIP.String(), "-port", strconv.Itoa(a.Service.Port),
				"-cert-dir", cert.Dir, "-patch", patchFile, "-probe-addr", probe}}
		if err := a.Proc.Start(ctx, startupTimeout); err != nil {
			return c, err
		}
	}
	return c, nil
}

// fixtures are the pinned namespace, its ConfigMaps and the ServiceAccount its Pods name.
func (c *Cluster) fixtures(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: workNamespace, Annotations: map[string]string{harness.KeyVersion: "v2"}}}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", workNamespace, err)
	}
	for name, version := range published {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"version": version}},
			Data: map[string]string{"tilt_lib.star": "# " + name + "\n"}}
		if _, err := c.Client.CoreV1().ConfigMaps(workNamespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating ConfigMap %s: %w", name, err)
		}
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := c.Client.CoreV1().ServiceAccounts(workNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating the default ServiceAccount: %w", err)
	}
	return nil
}

// oursPatch asks the running `webhook serve` for its patch of the create section's Pod: the
// constant arm returns it for every review.
func (c *Cluster) oursPatch(ctx context.Context) ([]byte, error) {
	body, err := reviewtest.Review("admission.k8s.io/v1", workNamespace, c.Pod, false)
	if err != nil {
		return nil, err
	}
	resp, err := c.answer(ctx, c.Arms[armOurs], body)
	if err != nil {
		return nil, err
	}
	if len(resp.Patch) == 0 || !resp.Allowed {
		return nil, fmt.Errorf("webhook serve did not inject the workspace Pod: allowed %t, %d-byte patch, warnings %q (log: %s)",
			resp.Allowed, len(resp.Patch), resp.Warnings, c.Arms[armOurs].Proc.LogPath)
	}
	return resp.Patch, nil
}

// answer posts one review to a and decodes the response in full.
func (c *Cluster) answer(ctx context.Context, a *Arm, body []byte) (*admissionv1.AdmissionResponse, error) {
	client, err := newClient(c.CA, 1)
	if err != nil {
		return nil, err
	}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL(), strings.NewReader(string(body)))
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the %s arm: %w", a.Name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("the %s arm: %w", a.Name, err)
	}
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(raw, &ar); err != nil || ar.Response == nil {
		return nil, fmt.Errorf("the %s arm answered HTTP %d, not an AdmissionReview: %.300s", a.Name, resp.StatusCode, raw)
	}
	if ar.Response.UID != reviewtest.ReviewUID {
		return nil, fmt.Errorf("the %s arm answered UID %q, want %q", a.Name, ar.Response.UID, reviewtest.ReviewUID)
	}
	return ar.Response, nil
}

// checkArms makes sure each arm does the job it stands for on body before it is measured: all
// admit, ours and naive patch (naive with as many operations or more: it diffs), empty does not.
func (c *Cluster) checkArms(ctx context.Context, arms []string, body []byte) error {
	for _, name := range arms {
		r, err := c.answer(ctx, c.Arms[name], body)
		if err != nil {
			return err
		}
		patches := len(r.Patch) > 0
		switch {
		case !r.Allowed:
			return fmt.Errorf("the %s arm did not admit the review: %v", name, r.Result)
		case name == armEmpty && patches:
			return fmt.Errorf("the empty arm patched: %s", r.Patch)
		case (name == armOurs || name == armNaive) && !patches:
			return fmt.Errorf("the %s arm did not inject", name)
		}
	}
	return nil
}

// Stop stops every process by the value that started it, then the control plane.
func (c *Cluster) Stop() error {
	var errs []error
	for _, a := range c.Arms {
		if a.Proc != nil {
			errs = append(errs, a.Proc.Stop(30*time.Second))
		}
	}
	if c.ControlPlane != nil {
		errs = append(errs, c.ControlPlane.Stop())
	}
	return errors.Join(errs...)
}
