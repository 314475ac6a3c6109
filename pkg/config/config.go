package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/platform-tools/tilt-lib-injector/pkg/events"
	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review"
)

// Cert modes.
const (
	CertModeFiles = "files"
	CertModeSelf  = "self"
)

// Bounds of --max-body-bytes-in-flight: big bodies share half of it, which must hold one body of
// review.MaxBodyBytes.
const (
	MinMaxBodyBytesInFlight = 2 * review.MaxBodyBytes
	MaxMaxBodyBytesInFlight = 4 << 30
)

// MinCertLifetime is the shortest --cert-lifetime: short enough for tests to rotate in
// seconds, long enough that renewal stays an occasional write.
const MinCertLifetime = 5 * time.Second

// Config is the whole configuration of `webhook serve` and `webhook inject`, in two sections.
// The shared section says what a Pod gets; both subcommands register, read and validate it. The
// serve-only section is the server itself (API access, listeners, certificates, logging): only
// serve registers its flags, reads its TILTLIB_* variables and validates it, so `inject --help`
// lists no ports and a stray TILTLIB_PORT cannot break `inject`. A --config file may hold keys of
// both sections: one file serves both subcommands, and each takes the keys it knows.
//
// To add a serve-only setting: a field with its `flag` tag at the end of the serve-only section,
// its flag in addServeOnlyFlags, its checks as a Rule in rules.go (with the values it refuses and
// accepts). Nothing else: env, --config and the tests follow from the tag, the registration and
// the rule; the chart's tests then fail until the chart refuses what the rule refuses.
type Config struct {
	// Shared: registered by AddSharedFlags, checked by the shared Rules.
	AnnotationPrefix        string            `flag:"annotation-prefix"`
	DefaultVersion          string            `flag:"default-version"`
	DefaultTemplatesVersion string            `flag:"default-templates-version"`
	Aliases                 map[string]string `flag:"alias"`
	Containers              []string          `flag:"containers"`
	LibConfigMap            string            `flag:"lib-configmap"`
	TemplatesConfigMap      string            `flag:"templates-configmap"`
	LibMountPath            string            `flag:"lib-mount-path"`
	TemplatesMountPath      string            `flag:"templates-mount-path"`
	VersionLabel            string            `flag:"version-label"`
	WorkspaceSelector       string            `flag:"workspace-selector"`
	// Envbox says which target containers run Coder's envbox (mutate.EnvboxMode): their
	// CODER_MOUNTS lists the components, so envbox's inner container sees them.
	Envbox string `flag:"envbox"`
	// ConfigMapSelector is the platform's marker: a label selector our ConfigMaps must match to
	// count (server-side on the watch, and in inject's ConfigMaps). Empty: every ConfigMap named
	// like ours counts. docs/design.md ("Which ConfigMaps count") says why the default is empty.
	ConfigMapSelector string `flag:"configmap-selector"`
	// ConfigFile is the --config YAML file this Config was read from, if any.
	ConfigFile string `flag:"config"`

	// Serve-only: registered by addServeOnlyFlags, checked by the serve-only Rules.
	Kubeconfig             string        `flag:"kubeconfig"`
	BindAddress            string        `flag:"bind-address"`
	Port                   int           `flag:"port"`
	MetricsBindAddress     string        `flag:"metrics-bind-address"`
	HealthProbeBindAddress string        `flag:"health-probe-bind-address"`
	CertMode               string        `flag:"cert-mode"`
	CertDir                string        `flag:"cert-dir"`
	CertSecretName         string        `flag:"cert-secret-name"`
	WebhookConfigName      string        `flag:"webhook-config-name"`
	ServiceName            string        `flag:"service-name"`
	ServiceNamespace       string        `flag:"service-namespace"`
	CALifetime             time.Duration `flag:"ca-lifetime"`
	CertLifetime           time.Duration `flag:"cert-lifetime"`
	TLSMinVersion          string        `flag:"tls-min-version"`
	EnableHTTP2            bool          `flag:"enable-http2"`
	LogLevel               string        `flag:"log-level"`
	// The HTTP edge of serve (pkg/review's Edge): per-request deadline, concurrency limit, client CA.
	RequestTimeout       time.Duration `flag:"request-timeout"`
	MaxConcurrentReviews int           `flag:"max-concurrent-reviews"`
	// Bodies (issue 23): a deadline for the body alone, and a budget for the bytes of all bodies
	// in flight, so connections that announce or trickle bodies hold neither memory nor slots.
	BodyReadTimeout      time.Duration `flag:"body-read-timeout"`
	MaxBodyBytesInFlight int64         `flag:"max-body-bytes-in-flight"`
	ClientCA             string        `flag:"client-ca"`
	// Events (pkg/events): a cluster-wide budget, and the Events client's own rate limit (the
	// other clients have none: the informers list and watch once).
	EventsPerMinute int     `flag:"events-per-minute"`
	EventsQPS       float32 `flag:"events-qps"`
	EventsBurst     int     `flag:"events-burst"`
	// MetricsSecure serves /metrics over HTTPS to callers the API server authenticates
	// (TokenReview) and authorizes (SubjectAccessReview: get on the /metrics non-resource URL).
	MetricsSecure bool `flag:"metrics-secure"`
	// MaxConfigMapSeries caps the distinct (configmap, version) label pairs of each metric that
	// carries them; the rest share configmap="other" (pkg/metrics, pkg/adoption).
	MaxConfigMapSeries int `flag:"max-configmap-series"`
	// VersionsConfigMap is the live versions document (pkg/versions) as NAMESPACE/NAME: a
	// ConfigMap whose key versions.yaml holds aliases and rollouts. Empty: no document, the
	// --alias flags alone.
	VersionsConfigMap string `flag:"versions-configmap"`
}

// Default returns the defaults of docs/design.md.
func Default() Config {
	m := mutate.DefaultOptions()
	lib, tmpl := m.Component(mutate.LibVolume), m.Component(mutate.TemplatesVolume)
	return Config{
		AnnotationPrefix:   m.AnnotationPrefix,
		Aliases:            map[string]string{},
		Containers:         m.Containers,
		LibConfigMap:       lib.Base,
		TemplatesConfigMap: tmpl.Base,
		LibMountPath:       lib.MountPath,
		TemplatesMountPath: tmpl.MountPath,
		VersionLabel:       "version",
		WorkspaceSelector:  "app.kubernetes.io/name=coder-workspace",
		Envbox:             string(m.Envbox),

		BindAddress:            "0.0.0.0",
		Port:                   9443,
		MetricsBindAddress:     ":8080",
		HealthProbeBindAddress: ":8081",
		// self needs nothing but RBAC (pkg/certs); files is for a mounted cert-manager certificate.
		CertMode:          CertModeSelf,
		CertSecretName:    "tilt-lib-injector-certs",
		WebhookConfigName: "tilt-lib-injector",
		ServiceName:       "tilt-lib-injector",
		ServiceNamespace:  os.Getenv("POD_NAMESPACE"),
		CALifetime:        87600 * time.Hour,
		CertLifetime:      8760 * time.Hour,
		TLSMinVersion:     "1.2",
		LogLevel:          "info",

		RequestTimeout:       review.DefaultTimeout,
		MaxConcurrentReviews: review.DefaultMaxConcurrent,
		BodyReadTimeout:      review.DefaultBodyTimeout,
		MaxBodyBytesInFlight: review.DefaultMaxBodyBytesInFlight,

		EventsPerMinute: events.DefaultBudget,
		EventsQPS:       5,
		EventsBurst:     10,

		MaxConfigMapSeries: metrics.DefaultMaxConfigMapSeries,
	}
}

// AddFlags registers every field of c on fs (serve's flags), with c's current values as defaults.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	c.AddSharedFlags(fs)
	c.addServeOnlyFlags(fs)
}

// AddSharedFlags registers the shared section only (inject's flags).
func (c *Config) AddSharedFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.AnnotationPrefix, "annotation-prefix", c.AnnotationPrefix, "prefix of every annotation and label read or written")
	fs.StringVar(&c.DefaultVersion, "default-version", c.DefaultVersion, "server default tilt-lib version; empty: the unversioned ConfigMap")
	fs.StringVar(&c.DefaultTemplatesVersion, "default-templates-version", c.DefaultTemplatesVersion, "server default tilt-templates version; empty: the unversioned ConfigMap")
	fs.StringToStringVar(&c.Aliases, "alias", c.Aliases, "version alias NAME=VERSION, repeatable (e.g. stable=v2)")
	fs.StringSliceVar(&c.Containers, "containers", c.Containers, "default target container names (comma-separated)")
	fs.StringVar(&c.LibConfigMap, "lib-configmap", c.LibConfigMap, "tilt-lib ConfigMap base name")
	fs.StringVar(&c.TemplatesConfigMap, "templates-configmap", c.TemplatesConfigMap, "tilt-templates ConfigMap base name")
	fs.StringVar(&c.LibMountPath, "lib-mount-path", c.LibMountPath, "mount path of tilt-lib")
	fs.StringVar(&c.TemplatesMountPath, "templates-mount-path", c.TemplatesMountPath, "mount path of tilt-templates")
	fs.StringVar(&c.VersionLabel, "version-label", c.VersionLabel, "ConfigMap label holding the semantic version")
	fs.StringVar(&c.WorkspaceSelector, "workspace-selector", c.WorkspaceSelector, "label selector of workspace Pods")
	fs.StringVar(&c.Envbox, "envbox", c.Envbox, "Coder envbox containers, whose CODER_MOUNTS gets the mounted components: auto (a target container with CODER_INNER_IMAGE), off, or force (every target container)")
	fs.StringVar(&c.ConfigMapSelector, "configmap-selector", c.ConfigMapSelector, "label selector our ConfigMaps must match to count (the platform's marker, e.g. tilt-lib.platform/published=true); others are treated as absent. Empty: every ConfigMap named like ours")
	fs.StringVar(&c.ConfigFile, "config", c.ConfigFile, "YAML file with any of these flags as keys (serve's and inject's: one file serves both)")
}

func (c *Config) addServeOnlyFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Kubeconfig, "kubeconfig", c.Kubeconfig, "kubeconfig file; default: $KUBECONFIG, in-cluster, ~/.kube/config")
	fs.StringVar(&c.BindAddress, "bind-address", c.BindAddress, "address the admission server listens on")
	fs.IntVar(&c.Port, "port", c.Port, "port of the admission server")
	fs.StringVar(&c.MetricsBindAddress, "metrics-bind-address", c.MetricsBindAddress, "address of the Prometheus metrics endpoint; \"0\" disables it")
	fs.StringVar(&c.HealthProbeBindAddress, "health-probe-bind-address", c.HealthProbeBindAddress, "address of /healthz and /readyz")
	fs.StringVar(&c.CertMode, "cert-mode", c.CertMode, "serving certificate source: self (CA and certificate kept in --cert-secret-name, caBundle of --webhook-config-name kept in sync) or files (mounted tls.crt/tls.key, hot-reloaded)")
	fs.StringVar(&c.CertDir, "cert-dir", c.CertDir, "directory holding tls.crt and tls.key (files mode); default: controller-runtime's <tmp>/k8s-webhook-server/serving-certs")
	fs.StringVar(&c.CertSecretName, "cert-secret-name", c.CertSecretName, "Secret holding the CA and serving certificate (self mode)")
	fs.StringVar(&c.WebhookConfigName, "webhook-config-name", c.WebhookConfigName, "MutatingWebhookConfiguration whose caBundle is kept in sync (self mode)")
	fs.StringVar(&c.ServiceName, "service-name", c.ServiceName, "Service in front of the webhook (self mode: the serving certificate's SANs and the caBundle entries kept in sync)")
	fs.StringVar(&c.ServiceNamespace, "service-namespace", c.ServiceNamespace, "the injector's own namespace: of that Service and of --cert-secret-name (self mode), and never a workspace namespace (its ConfigMaps and Pods are not watched); default: $POD_NAMESPACE")
	fs.DurationVar(&c.CALifetime, "ca-lifetime", c.CALifetime, "lifetime of the self-signed CA (self mode)")
	fs.DurationVar(&c.CertLifetime, "cert-lifetime", c.CertLifetime, "lifetime of the serving certificate (self mode)")
	fs.StringVar(&c.TLSMinVersion, "tls-min-version", c.TLSMinVersion, "minimum TLS version: 1.2 or 1.3")
	fs.BoolVar(&c.EnableHTTP2, "enable-http2", c.EnableHTTP2, "serve HTTP/2 (off by default: CVE-2023-44487 rapid reset)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "info, debug (logs every admission), or a number: the logr verbosity")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", c.RequestTimeout, "deadline to read, handle and answer one admission request (at most 30s, the API server's longest webhook timeout)")
	fs.IntVar(&c.MaxConcurrentReviews, "max-concurrent-reviews", c.MaxConcurrentReviews, "admission requests decided at once (counted from when their body is in); more are answered 429 with Retry-After")
	fs.DurationVar(&c.BodyReadTimeout, "body-read-timeout", c.BodyReadTimeout, "deadline to receive one review body, from the end of its headers (at most --request-timeout); a body still arriving is cut with 408")
	fs.Int64Var(&c.MaxBodyBytesInFlight, "max-body-bytes-in-flight", c.MaxBodyBytesInFlight, "bytes all review bodies being received or decided may hold together; a body that does not fit is answered 503 with Retry-After")
	fs.StringVar(&c.ClientCA, "client-ca", c.ClientCA, "PEM CA bundle: when set, clients must present a certificate it signed (the API server's, from its --admission-control-config-file)")
	fs.IntVar(&c.EventsPerMinute, "events-per-minute", c.EventsPerMinute, "most Warning Events recorded per minute across all namespaces (1-10000), on top of one per namespace, reason and component")
	fs.Float32Var(&c.EventsQPS, "events-qps", c.EventsQPS, "requests per second of the Events client to the API server (0.1-1000)")
	fs.IntVar(&c.EventsBurst, "events-burst", c.EventsBurst, "burst of the Events client above --events-qps (1-10000)")
	fs.BoolVar(&c.MetricsSecure, "metrics-secure", c.MetricsSecure, "serve /metrics over HTTPS, only to bearer tokens the API server authenticates and allows get on /metrics (needs create on tokenreviews and subjectaccessreviews)")
	fs.StringVar(&c.VersionsConfigMap, "versions-configmap", c.VersionsConfigMap, "NAMESPACE/NAME of the ConfigMap holding the live versions document (key versions.yaml: aliases, which win over --alias for a name they define, and rollouts); watched, no restart needed. Empty: none")
	fs.IntVar(&c.MaxConfigMapSeries, "max-configmap-series", c.MaxConfigMapSeries, "most (configmap, version) label pairs with a series of their own in each metric (1-10000); the rest are counted as configmap=\"other\"")
}

// MutateOptions derives the options of the pure core: the product's component table with each
// row's settings from its flags (components_test.go checks that every row has them).
func (c Config) MutateOptions() mutate.Options {
	o := mutate.DefaultOptions()
	o.AnnotationPrefix, o.Aliases, o.Containers = c.AnnotationPrefix, c.Aliases, c.Containers
	o.Envbox = mutate.EnvboxMode(c.Envbox)
	for name, set := range map[string]mutate.ComponentOptions{
		mutate.LibVolume:       {Base: c.LibConfigMap, MountPath: c.LibMountPath, DefaultVersion: c.DefaultVersion},
		mutate.TemplatesVolume: {Base: c.TemplatesConfigMap, MountPath: c.TemplatesMountPath, DefaultVersion: c.DefaultTemplatesVersion},
	} {
		o.Component(name).ComponentOptions = set
	}
	return o
}

// VersionsObject splits VersionsConfigMap into its namespace and name (valid after Validate;
// empty when unset).
func (c Config) VersionsObject() (namespace, name string) {
	namespace, name, _ = strings.Cut(c.VersionsConfigMap, "/")
	return namespace, name
}

// TLSVersion is TLSMinVersion as a crypto/tls constant (valid after Validate).
func (c Config) TLSVersion() uint16 {
	if c.TLSMinVersion == "1.3" {
		return tls.VersionTLS13
	}
	return tls.VersionTLS12
}

// ErrInvalid is wrapped by every error Validate and ValidateShared return.
var ErrInvalid = errors.New("invalid configuration")

// Validate checks the whole configuration (serve's) against every rule and reports every problem at once.
func (c Config) Validate() error {
	return c.problems(Rules)
}

// ValidateShared checks the shared section only (inject's), reporting every problem at once.
func (c Config) ValidateShared() error {
	return c.problems(slices.DeleteFunc(slices.Clone(Rules), func(r Rule) bool { return r.serveOnly }))
}

func (c Config) problems(rules []Rule) error {
	var errs []error
	for _, r := range rules {
		errs = append(errs, r.check(c)...)
	}
	return errors.Join(errs...)
}

// invalid wraps ErrInvalid around one problem.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Verbosity maps LogLevel to a logr verbosity: info=0, debug=1 (the success path), or a number.
func (c Config) Verbosity() (int, error) {
	switch strings.ToLower(c.LogLevel) {
	case "info", "":
		return 0, nil
	case "debug":
		return 1, nil
	}
	// Atoi, not Sscanf: Sscanf would read "5abc" as 5. Digits only, so "+5" and "05" are refused
	// as the chart's schema refuses them.
	v, err := strconv.Atoi(c.LogLevel)
	if err != nil || v < 0 || v > 10 || c.LogLevel != strconv.Itoa(v) {
		return 0, errors.New("must be info, debug or a number 0-10")
	}
	return v, nil
}
