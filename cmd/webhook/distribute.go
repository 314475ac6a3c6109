package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
	"github.com/platform-tools/tilt-lib-injector/pkg/distribute"
	"github.com/platform-tools/tilt-lib-injector/pkg/distributor"
)

// distributeFlags are the flags of `webhook distribute` on top of the shared configuration
// (base names, version label, annotation prefix: the same flags, variables and --config keys as
// serve's, so the distributor and the webhook cannot disagree about which ConfigMaps are ours).
// They are command-line only.
type distributeFlags struct {
	sourceNamespace, namespaceSelector string
	exclude                            []string
	grace, resync                      time.Duration
	maxSources, maxSourceBytes         int
	qps                                float32
	burst                              int
	cleanup                            bool
	metricsAddr, probeAddr             string
	leaseNamespace, leaseName          string
	leaseDuration, renewDeadline       time.Duration
	retryPeriod                        time.Duration
}

func (d *distributeFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&d.sourceNamespace, "source-namespace", "", "namespace holding the source ConfigMaps (labelled <annotation-prefix>distribute=true); required")
	fs.StringVar(&d.namespaceSelector, "namespace-selector", "", "label selector of the target namespaces; required, and an empty selector is refused (say \"every namespace\" explicitly, e.g. kubernetes.io/metadata.name)")
	fs.StringSliceVar(&d.exclude, "exclude-namespaces", nil, "namespaces never written, on top of kube-system, kube-public and kube-node-lease (the chart passes the webhook's excluded namespaces and its own)")
	fs.DurationVar(&d.grace, "grace", distribute.DefaultGrace, "how long an orphaned copy is kept before it may be deleted (and then only if no live Pod mounts it)")
	fs.DurationVar(&d.resync, "resync", distributor.DefaultResync, "period of the full resync")
	fs.IntVar(&d.maxSources, "max-sources", distribute.DefaultMaxSources, fmt.Sprintf("sources distributed at most (1..%d); more are refused", distribute.MaxMaxSources))
	fs.IntVar(&d.maxSourceBytes, "max-source-bytes", distribute.DefaultMaxSourceBytes, "bytes of data and binaryData per source at most (1..1048576); larger sources are refused")
	fs.Float32Var(&d.qps, "qps", 50, "client-go rate limit of the distributor's API requests per second")
	fs.IntVar(&d.burst, "burst", 100, "client-go rate limiter burst")
	fs.BoolVar(&d.cleanup, "cleanup", false, "run once: treat every copy as an orphan (mark it; delete it once --grace is over and no live Pod mounts it), then exit")
	fs.StringVar(&d.metricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint; \"0\" disables it")
	fs.StringVar(&d.probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	fs.StringVar(&d.leaseNamespace, "lease-namespace", os.Getenv("POD_NAMESPACE"), "namespace of the leader-election Lease; default: $POD_NAMESPACE")
	fs.StringVar(&d.leaseName, "lease-name", "tilt-lib-injector-distribute", "name of the leader-election Lease")
	fs.DurationVar(&d.leaseDuration, "lease-duration", 15*time.Second, "leader-election lease duration")
	fs.DurationVar(&d.renewDeadline, "renew-deadline", 10*time.Second, "leader-election renew deadline")
	fs.DurationVar(&d.retryPeriod, "retry-period", 2*time.Second, "leader-election retry period")
}

func (d distributeFlags) check() error {
	var errs []error
	if d.resync <= 0 {
		errs = append(errs, fmt.Errorf("--resync %s must be positive", d.resync))
	}
	if d.qps <= 0 || d.burst < 1 {
		errs = append(errs, fmt.Errorf("--qps %v and --burst %d must be positive", d.qps, d.burst))
	}
	if !d.cleanup && d.leaseNamespace == "" {
		errs = append(errs, errors.New("--lease-namespace is required (or $POD_NAMESPACE)"))
	}
	if !(d.leaseDuration > d.renewDeadline && d.renewDeadline > d.retryPeriod && d.retryPeriod > 0) {
		errs = append(errs, fmt.Errorf("need --lease-duration %s > --renew-deadline %s > --retry-period %s > 0", d.leaseDuration, d.renewDeadline, d.retryPeriod))
	}
	return errors.Join(errs...)
}

// settings builds the distribution settings from the shared configuration and the flags.
func (d distributeFlags) settings(cfg tlconfig.Config) (distribute.Settings, error) {
	sel, err := labels.Parse(d.namespaceSelector)
	if err != nil {
		return distribute.Settings{}, fmt.Errorf("--namespace-selector %q: %w", d.namespaceSelector, err)
	}
	if d.cleanup && sel.Empty() {
		sel = labels.Nothing() // cleanup has no targets: every copy is an orphan
	}
	markers, err := markerLabels(cfg.ConfigMapSelector)
	if err != nil {
		return distribute.Settings{}, err
	}
	s := distribute.Settings{
		Prefix: cfg.AnnotationPrefix, Bases: []string{cfg.LibConfigMap, cfg.TemplatesConfigMap},
		VersionLabel: cfg.VersionLabel, MarkerLabels: markers, SourceNamespace: d.sourceNamespace, Selector: sel,
		Excluded: d.exclude, Grace: d.grace, MaxSources: d.maxSources, MaxSourceBytes: d.maxSourceBytes,
	}
	return s, s.Validate()
}

// markerLabels are the label keys the webhook's --configmap-selector reads, sorted as the parsed
// selector keeps them (the copies carry them, as the version label; the hash reads them in this
// order).
func markerLabels(selector string) ([]string, error) {
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil, fmt.Errorf("--configmap-selector %q: %w", selector, err)
	}
	reqs, _ := sel.Requirements()
	var keys []string
	for _, r := range reqs {
		if !slices.Contains(keys, r.Key()) {
			keys = append(keys, r.Key())
		}
	}
	return keys, nil
}

// loadDistribute reads the shared section (flags, TILTLIB_* variables, --config) plus
// --kubeconfig and --log-level, and distribute's own flags.
func loadDistribute(fs *pflag.FlagSet, args []string) (tlconfig.Config, distributeFlags, distribute.Settings, error) {
	cfg := tlconfig.Default()
	var d distributeFlags
	cfg.AddSharedFlags(fs)
	fs.StringVar(&cfg.Kubeconfig, "kubeconfig", cfg.Kubeconfig, "kubeconfig file; default: $KUBECONFIG, in-cluster, ~/.kube/config")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "info, debug, or a number: the logr verbosity")
	d.add(fs)
	if err := tlconfig.Apply(fs, args, os.LookupEnv); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return cfg, d, distribute.Settings{}, &helpRequest{fs: fs}
		}
		return cfg, d, distribute.Settings{}, err
	}
	if err := noArguments(fs.Args()); err != nil {
		return cfg, d, distribute.Settings{}, fmt.Errorf("%w (distribute takes flags only)", err)
	}
	s, serr := d.settings(cfg)
	return cfg, d, s, errors.Join(cfg.ValidateShared(), d.check(), serr)
}

// distributeCmd runs `webhook distribute`: the ConfigMap distributor (pkg/distributor) until
// SIGTERM, or with --cleanup one cleanup run.
func distributeCmd(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("distribute", stderr)
	cfg, d, s, err := loadDistribute(fs, args)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	rc, err := restConfig(cfg.Kubeconfig)
	if err != nil {
		return err
	}
	rc = rest.CopyConfig(rc)
	rc.QPS, rc.Burst = d.qps, d.burst
	rc.UserAgent = "tilt-lib-injector-distribute"
	ctx, stop := signalContext()
	defer stop()
	if _, err := checkAPIServer(ctx, rc, apiServerTimeout); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	ctrl.SetLogger(log)
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if d.cleanup {
		return runCleanup(ctx, client, s, log, stdout)
	}
	return runDistributor(ctx, rc, client, s, d, log)
}

func runCleanup(ctx context.Context, client kubernetes.Interface, s distribute.Settings, log logr.Logger, stdout io.Writer) error {
	m, err := distributor.NewMetrics(ctrlmetrics.Registry)
	if err != nil {
		return err
	}
	rec, done := recorder(client)
	defer done()
	res, err := distributor.New(client, distributor.Options{Settings: s, Resync: time.Hour, Log: log, Metrics: m, Recorder: rec}).Cleanup(ctx)
	if err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	fmt.Fprintf(stdout, "cleanup: %d deleted, %d kept (grace %s not over), %d kept (live Pods mount them)\n",
		res.Deleted, res.Kept, s.Grace, res.Mounted)
	return nil
}

func runDistributor(ctx context.Context, rc *rest.Config, client kubernetes.Interface, s distribute.Settings, d distributeFlags, log logr.Logger) error {
	m, err := distributor.NewMetrics(ctrlmetrics.Registry)
	if err != nil {
		return err
	}
	rec, done := recorder(client)
	defer done()
	mgr, err := ctrl.NewManager(rc, manager.Options{
		Logger:                        log,
		Metrics:                       metricsserver.Options{BindAddress: d.metricsAddr},
		HealthProbeBindAddress:        d.probeAddr,
		LeaderElection:                true,
		LeaderElectionResourceLock:    "leases",
		LeaderElectionNamespace:       d.leaseNamespace,
		LeaderElectionID:              d.leaseName,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &d.leaseDuration,
		RenewDeadline:                 &d.renewDeadline,
		RetryPeriod:                   &d.retryPeriod,
	})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	c := distributor.New(client, distributor.Options{Settings: s, Resync: d.resync, Log: log.WithName("distribute"), Metrics: m, Recorder: rec})
	if err := mgr.Add(c); err != nil {
		return err
	}
	log.Info("starting the distributor", "source", s.SourceNamespace, "selector", s.Selector.String(), "lease", d.leaseNamespace+"/"+d.leaseName)
	return mgr.Start(ctx)
}

// recorder is an Event recorder writing through client; done flushes and stops it.
func recorder(client kubernetes.Interface) (record.EventRecorder, func()) {
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	return b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "tilt-lib-injector-distribute"}), b.Shutdown
}
