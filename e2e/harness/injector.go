package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
)

// Options configure Start. Zero values pick the defaults.
type Options struct {
	// AssetsDir holds etcd, kube-apiserver and kubectl; default $KUBEBUILDER_ASSETS.
	AssetsDir string
	// WorkDir receives the kubeconfig, certificates, binaries and logs; default a new temp
	// dir, removed by Close unless KeepWorkDir.
	WorkDir     string
	KeepWorkDir bool
	// Namespace and ServiceName of the injector; default tilt-lib-injector for both.
	Namespace, ServiceName string
	// APIServerFlags are kube-apiserver flags on top of the harness's (a node's, see
	// Node.APIServerFlags).
	APIServerFlags map[string]string
	// APIServerAddr, when set, is where the API server serves instead of a free 127.0.0.1 port
	// (a node's, see Node.APIServerAddr).
	APIServerAddr *net.TCPAddr
	// WebhookArgs are appended to the `serve` flags the harness sets (e.g. --alias stable=v2).
	WebhookArgs []string
	// WebhookConfigName names the MutatingWebhookConfiguration; default WebhookConfigName.
	WebhookConfigName string
	// FailurePolicy of the registration; default Ignore (never block a workspace).
	FailurePolicy admissionv1.FailurePolicyType
	// Timeout bounds each start-up step that waits (webhook ready, registration effective);
	// default 60s.
	Timeout time.Duration
	// BeforeRegister, when set, runs once the webhook is ready and before its registration
	// exists: what it creates predates the injector, as in a cluster that ran workspaces before
	// the chart was installed (the demo's straggler). An error aborts Start.
	BeforeRegister func(ctx context.Context, inj *Injector) error
}

// Injector is a control plane with the webhook running and registered.
type Injector struct {
	*ControlPlane
	Service Service
	Cert    *ServingCert
	Webhook *Webhook
	WorkDir string
	opts    Options
}

// Start builds cmd/webhook, starts etcd + kube-apiserver, creates the injector's namespace and
// Service, a serving certificate for it, runs `webhook serve` on the Service's ClusterIP,
// registers the MutatingWebhookConfiguration and waits until it takes effect.
func Start(ctx context.Context, o Options) (inj *Injector, err error) {
	o = o.withDefaults()
	workDir := o.WorkDir
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "tilt-lib-injector-"); err != nil {
			return nil, fmt.Errorf("work dir: %w", err)
		}
	}
	inj = &Injector{WorkDir: workDir, opts: o}
	defer func() {
		if err != nil {
			err = errors.Join(err, inj.Close())
		}
	}()

	// Compiling the webhook and booting the API server each take seconds; overlap them.
	root, err := RepoRoot()
	if err != nil {
		return inj, err
	}
	binary := filepath.Join(workDir, "bin", "webhook")
	built := make(chan error, 1)
	go func() { built <- GoBuild(ctx, root, "./cmd/webhook", binary) }()

	cp, cpErr := StartControlPlaneWith(o.AssetsDir, workDir, o.APIServerFlags, o.APIServerAddr)
	if buildErr := <-built; buildErr != nil || cpErr != nil {
		if cp != nil {
			inj.ControlPlane = cp
		}
		return inj, errors.Join(buildErr, cpErr)
	}
	inj.ControlPlane = cp

	if inj.Service, err = CreateService(ctx, cp.Client, o.Namespace, o.ServiceName); err != nil {
		return inj, err
	}
	inj.Cert, err = WriteServingCert(filepath.Join(workDir, "certs"),
		ServiceDNSNames(o.ServiceName, o.Namespace), []net.IP{inj.Service.ClusterIP})
	if err != nil {
		return inj, err
	}
	metricsAddr, probeAddr, err := SideAddrs()
	if err != nil {
		return inj, err
	}
	inj.Webhook = &Webhook{
		Binary:      binary,
		Args:        ServeArgs(cp.Kubeconfig, inj.Service, inj.Cert.Dir, metricsAddr, probeAddr, o.WebhookArgs...),
		Addr:        inj.Service.Addr(),
		ProbeAddr:   probeAddr,
		MetricsAddr: metricsAddr,
		LogPath:     filepath.Join(workDir, "webhook.log"),
	}
	if err := inj.Webhook.Start(ctx, o.Timeout); err != nil {
		return inj, err
	}
	if o.BeforeRegister != nil {
		if err := o.BeforeRegister(ctx, inj); err != nil {
			return inj, fmt.Errorf("before registering the webhook: %w", err)
		}
	}
	reg := WebhookConfig(inj.Service, inj.Cert.CABundle, o.FailurePolicy)
	reg.Name = o.WebhookConfigName
	if err := RegisterWebhook(ctx, cp.Client, reg); err != nil {
		return inj, err
	}
	if err := inj.WaitInjecting(ctx, o.Timeout); err != nil {
		return inj, fmt.Errorf("webhook registered but not called (log: %s): %w", inj.Webhook.LogPath, err)
	}
	return inj, nil
}

func (o Options) withDefaults() Options {
	if o.Namespace == "" {
		o.Namespace = "tilt-lib-injector"
	}
	if o.ServiceName == "" {
		o.ServiceName = "tilt-lib-injector"
	}
	if o.WebhookConfigName == "" {
		o.WebhookConfigName = WebhookConfigName
	}
	if o.FailurePolicy == "" {
		o.FailurePolicy = admissionv1.Ignore
	}
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	return o
}

// RestartWebhook stops the webhook (SIGTERM, wait) and starts it again with the same flags,
// waiting until it is ready and the API server reaches it again.
func (inj *Injector) RestartWebhook(ctx context.Context) error {
	if err := inj.Webhook.Stop(30 * time.Second); err != nil {
		return err
	}
	if err := inj.Webhook.Start(ctx, inj.opts.Timeout); err != nil {
		return err
	}
	return inj.WaitInjecting(ctx, inj.opts.Timeout)
}

// ExtraWebhook prepares (does not start) a second `webhook serve` process of the same binary,
// on 127.0.0.1 ports of its own, serving the same certificate, with kubeconfig (the admin's when
// empty) and extra flags; it logs to webhook-<name>.log in the work dir. It is not registered
// with the API server: tests call it directly. The caller stops it.
func (inj *Injector) ExtraWebhook(name, kubeconfig string, extra ...string) (*Webhook, error) {
	if kubeconfig == "" {
		kubeconfig = inj.Kubeconfig
	}
	port, err := FreePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	metricsAddr, probeAddr, err := SideAddrs()
	if err != nil {
		return nil, err
	}
	svc := Service{Name: inj.Service.Name, Namespace: inj.Service.Namespace, ClusterIP: net.IPv4(127, 0, 0, 1), Port: port}
	return &Webhook{
		Binary:      inj.Webhook.Binary,
		Args:        ServeArgs(kubeconfig, svc, inj.Cert.Dir, metricsAddr, probeAddr, extra...),
		Addr:        svc.Addr(),
		ProbeAddr:   probeAddr,
		MetricsAddr: metricsAddr,
		LogPath:     filepath.Join(inj.WorkDir, "webhook-"+name+".log"),
	}, nil
}

// KeepWorkDir makes Close leave the work dir (logs, kubeconfig) for inspection.
func (inj *Injector) KeepWorkDir() { inj.opts.KeepWorkDir = true }

// Scrape reads the webhook's metrics.
func (inj *Injector) Scrape(ctx context.Context) (Snapshot, error) {
	return Scrape(ctx, inj.Webhook.MetricsAddr)
}

// Close stops the webhook and the control plane it started, then removes the work dir unless
// asked to keep it. Safe on a partially started Injector.
func (inj *Injector) Close() error {
	var errs []error
	if inj.Webhook != nil {
		errs = append(errs, inj.Webhook.Stop(30*time.Second))
	}
	if inj.ControlPlane != nil {
		errs = append(errs, inj.ControlPlane.Stop())
	}
	err := errors.Join(errs...)
	if err == nil && !inj.opts.KeepWorkDir && inj.opts.WorkDir == "" {
		if rmErr := os.RemoveAll(inj.WorkDir); rmErr != nil {
			return fmt.Errorf("removing %s: %w", inj.WorkDir, rmErr)
		}
	}
	return err
}
