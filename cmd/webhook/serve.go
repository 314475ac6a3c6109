package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/labels"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	crzap "sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/platform-tools/tilt-lib-injector/pkg/adoption"
	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
	"github.com/platform-tools/tilt-lib-injector/pkg/events"
	"github.com/platform-tools/tilt-lib-injector/pkg/lookup"
	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/review"
)

// serve runs the admission server until SIGTERM. Every startup failure is one error (one line)
// saying what is wrong and what to do; nothing is logged before the checks pass.
func serve(args []string, stderr io.Writer) error {
	cfg, err := serveConfig(args, os.LookupEnv, stderr)
	if err != nil {
		return err
	}
	if err := checkCertConfig(cfg); err != nil {
		return err
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	cs, err := newCertSetup(cfg, log)
	if err != nil {
		return err
	}
	rc, err := restConfig(cfg.Kubeconfig)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	server, err := checkAPIServer(ctx, rc, apiServerTimeout)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while waiting for the API server
		}
		return err
	}
	ctrl.SetLogger(log)
	log.Info("API server reachable", "host", rc.Host, "version", server)
	return runServer(ctx, cfg, rc, cs, log)
}

// serveConfig is serve's one flag set: its flags, TILTLIB_* variables (from lookupEnv) and
// --config file, validated. `webhook explain` parses the deployed webhook's container args with it
// too, so what explain decides with is what serve would run with.
func serveConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (tlconfig.Config, error) {
	fs := flagSet("serve", stderr)
	cfg, err := load(fs, args, lookupEnv, tlconfig.LoadServe)
	if err != nil {
		return cfg, err
	}
	if err := noArguments(fs.Args()); err != nil {
		return cfg, fmt.Errorf("%w (serve takes flags only)", err)
	}
	return cfg, nil
}

// signalContext is cancelled by the first SIGTERM or SIGINT; a second one ends the process the
// default way. Unlike ctrl.SetupSignalHandler it may be set up more than once, so tests run serve
// in-process.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

// newLogger logs JSON to w. Stack traces only for panics: on errors they bury the message (a
// missing kubeconfig used to print a 1,268-character line), and the error text names the cause.
func newLogger(cfg tlconfig.Config, w io.Writer) (logr.Logger, error) {
	v, err := cfg.Verbosity()
	if err != nil {
		return logr.Discard(), err
	}
	return crzap.New(crzap.WriteTo(w), crzap.JSONEncoder(), crzap.Level(zapcore.Level(-v)),
		crzap.StacktraceLevel(zapcore.DPanicLevel)), nil
}

// runServer wires the manager: caches, webhook server, metrics, probes, Events. It returns when
// ctx is cancelled (SIGTERM) and in-flight reviews have finished.
func runServer(ctx context.Context, cfg tlconfig.Config, rc *rest.Config, cs *certSetup, log logr.Logger) error {
	settings := lookup.Settings{
		AnnotationPrefix:  cfg.AnnotationPrefix,
		Bases:             cfg.MutateOptions().Bases(),
		VersionLabel:      cfg.VersionLabel,
		ConfigMapSelector: cfg.ConfigMapSelector,
		OwnNamespace:      cfg.ServiceNamespace, // the chart's release namespace, never a workspace's
	}
	tlsOpts := append(serverTLS(cfg), cs.tlsOpt)
	if cfg.ClientCA != "" {
		// Only the API server, with the client certificate of its admission kubeconfig, may
		// send reviews: not any Pod that can reach the Service.
		requireClientCert, err := review.ClientCA(cfg.ClientCA)
		if err != nil {
			return fmt.Errorf("--client-ca: %w", err)
		}
		tlsOpts = append(tlsOpts, requireClientCert)
	}
	selector, err := labels.Parse(cfg.WorkspaceSelector) // validated by Load
	if err != nil {
		return fmt.Errorf("--workspace-selector: %w", err)
	}
	// The manager's cache holds only the workspace Pods (the adoption gauges); Namespaces and
	// ConfigMaps live in pkg/lookup's stores, which keep only what admission reads.
	adopt := adoption.Settings{Options: cfg.MutateOptions(), VersionLabel: cfg.VersionLabel, Selector: selector,
		MaxConfigMapSeries: cfg.MaxConfigMapSeries, OwnNamespace: cfg.ServiceNamespace}
	live := versionsLive(cfg) // nil without --versions-configmap
	if live != nil {
		adopt.Versions = live // tiltlib_rollout_workspaces (a nil *Live in the interface would not be nil)
	}
	cacheOpts := cache.Options{ByObject: map[client.Object]cache.ByObject{adoption.PodObject(): adopt.PodCache()}}
	shutdown := 30 * time.Second
	mgr, err := ctrl.NewManager(rc, manager.Options{
		Scheme:                  clientgoscheme.Scheme,
		Logger:                  log,
		Cache:                   cacheOpts,
		Metrics:                 metricsOptions(cfg, log),
		HealthProbeBindAddress:  cfg.HealthProbeBindAddress,
		GracefulShutdownTimeout: &shutdown,
		WebhookServer: webhook.NewServer(webhook.Options{
			Host:    cfg.BindAddress,
			Port:    cfg.Port,
			CertDir: cfg.CertDir,
			TLSOpts: tlsOpts,
		}),
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	ready := &readiness{Manager: mgr} // every readyz check goes through it: tiltlib_ready = /readyz
	if err := cs.wire(ctx, ready); err != nil {
		return err
	}

	mc, err := metadata.NewForConfigAndClient(rc, mgr.GetHTTPClient())
	if err != nil {
		return fmt.Errorf("creating the metadata client: %w", err)
	}
	reads, err := metrics.NewNamespaceReads(ctrlmetrics.Registry, lookup.ReadResults)
	if err != nil {
		return err
	}
	caches := lookup.NewCaches(settings, mc, reads)
	if err := mgr.Add(caches); err != nil {
		return fmt.Errorf("adding the Namespace and ConfigMap caches: %w", err)
	}
	synced := []func() bool{caches.Namespaces.HasSynced, caches.ConfigMaps.HasSynced}
	pods, err := mgr.GetCache().GetInformer(ctx, adoption.PodObject())
	if err != nil {
		return fmt.Errorf("creating the workspace Pod informer: %w", err)
	}
	// Admission waits only for the lookup caches; readiness and the gauges wait for all of them.
	all := append(slices.Clone(synced), pods.HasSynced)
	if _, err := adoption.New(ctrlmetrics.Registry, mgr.GetCache(), caches.ConfigMaps, adopt, func() bool { return allSynced(all) }, log.WithName("adoption")); err != nil {
		return err
	}
	if err := adoption.NewReady(ctrlmetrics.Registry, ready.ready); err != nil {
		return err
	}
	m, err := metrics.NewWithOptions(ctrlmetrics.Registry, version, metrics.Options{MaxConfigMapSeries: cfg.MaxConfigMapSeries})
	if err != nil {
		return err
	}
	dropped, err := metrics.NewEvents(ctrlmetrics.Registry, events.Causes)
	if err != nil {
		return err
	}
	rec, err := eventRecorder(ctx, rc, cfg)
	if err != nil {
		return err
	}
	emitter := events.New(rec, events.Options{Dropped: dropped, Budget: cfg.EventsPerMinute})
	if err := mgr.Add(emitter); err != nil {
		return fmt.Errorf("adding the event emitter: %w", err)
	}
	if err := mgr.Add(warnMissingTargets{caches.ConfigMaps, cfg.MutateOptions(), cfg.ConfigMapSelector, log}); err != nil {
		return fmt.Errorf("adding the ConfigMap check: %w", err)
	}
	versionsSynced, err := watchVersions(mgr, rc, cfg, live, rec, log.WithName("versions"))
	if err != nil {
		return err
	}
	// A review waits for the document's first state, and never runs on a replica that has no
	// good document: a broken document stalls, it never silently changes versions.
	synced = append(synced, versionsSynced...)
	h := &decide.Decider{
		Options:    cfg.MutateOptions(),
		Namespaces: withFaults(caches),
		ConfigMaps: caches,
		Metrics:    m,
		Events:     emitter,
		Log:        log.WithName("admission"),
		Selector:   selector,
		Synced:     func() bool { return allSynced(synced) },
	}
	if live != nil {
		h.Versions = live
	}
	mgr.GetWebhookServer().Register(review.Path, review.NewEdge(withBodyFaults(review.New(h)), review.EdgeOptions{
		Timeout:              cfg.RequestTimeout,
		BodyTimeout:          cfg.BodyReadTimeout,
		MaxConcurrent:        cfg.MaxConcurrentReviews,
		MaxBodyBytesInFlight: cfg.MaxBodyBytesInFlight,
		Rejected:             m.Error, // tiltlib_admission_reviews_total{result="error"}, with the edge's reasons
		Log:                  log.WithName("admission"),
	}))

	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := ready.AddReadyzCheck("caches", func(*http.Request) error {
		if !allSynced(all) {
			return errors.New("informer caches not synced yet")
		}
		return nil
	}); err != nil {
		return err
	}
	if live != nil {
		if err := ready.AddReadyzCheck("versions", func(*http.Request) error {
			if !allSynced(versionsSynced) {
				return errors.New("no good versions document yet (--versions-configmap " + cfg.VersionsConfigMap + "): see its Warning Events")
			}
			return nil
		}); err != nil {
			return err
		}
	}
	// StartedChecker completes a TLS handshake with the webhook server: ready implies the serving
	// certificate is loaded.
	if err := ready.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
		return err
	}
	log.Info("starting", "version", version, "address", cfg.BindAddress+":"+strconv.Itoa(cfg.Port),
		"certMode", cfg.CertMode, "certDir", cfg.CertDir, "defaultVersion", cfg.DefaultVersion, "aliases", cfg.Aliases)
	return runManager(ctx, mgr, all, shutdown, log)
}

// runManager runs mgr until ctx is done and bounds how long stopping may take.
//
// controller-runtime v0.25's manager never returns if it is stopped before its caches sync: its
// runnableGroup.Start keeps selecting on the closed ctx.Done() (a busy loop, one core at 100%)
// until the kubelet's SIGKILL. Before the caches sync the Pod is unready, so no review can have
// been routed to it: exiting right away loses nothing. Once synced, in-flight reviews get the
// graceful-shutdown timeout, plus a margin, before we give up.
func runManager(ctx context.Context, mgr manager.Manager, synced []func() bool, shutdown time.Duration, log logr.Logger) error {
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	finished := func(err error) error {
		if err != nil {
			return fmt.Errorf("running: %w", err)
		}
		log.Info("stopped")
		return nil
	}
	select {
	case err := <-done:
		return finished(err)
	case <-ctx.Done():
	}
	grace := shutdown + 5*time.Second
	if !allSynced(synced) {
		grace = 2 * time.Second
	}
	select {
	case err := <-done:
		return finished(err)
	case <-time.After(grace):
		if !allSynced(synced) {
			log.Info("stopped before the caches synced; no review was served")
			return nil
		}
		return fmt.Errorf("the manager did not stop within %s of the signal", grace)
	}
}

func allSynced(synced []func() bool) bool {
	for _, s := range synced {
		if !s() {
			return false
		}
	}
	return true
}

// checkCertFiles fails early, with the paths, when the mounted certificate is missing: otherwise
// the manager starts, probes fail, and the reason hides in a log line.
func checkCertFiles(dir string) error {
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs")
	}
	for _, f := range []string{"tls.crt", "tls.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("serving certificate: %w (mount tls.crt and tls.key into --cert-dir)", err)
		}
	}
	return nil
}
