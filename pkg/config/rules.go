package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/review"
)

// Example is a configuration given as flags: flag name (no dashes) -> value as on the command
// line; every other flag keeps its default. Args renders it for LoadServe.
type Example map[string]string

// Args are the command-line arguments of e, in flag order.
func (e Example) Args() []string {
	var args []string
	for _, f := range slices.Sorted(maps.Keys(e)) {
		args = append(args, "--"+f+"="+e[f])
	}
	return args
}

// Rule is one check of Validate: the flags it reads, and values it refuses and accepts at its
// edges. Validate is exactly the rules of Rules, so every check the binary makes is listed here
// with examples. The table is exported for the chart's tests (hack/charttest): they prove that
// `helm template` refuses each Refused example (through the chart value that sets the flag) and
// renders each Accepted one into arguments this package accepts. A new rule, or a new refused
// value, reaches them without touching them; a flag the chart has no value for fails there too.
type Rule struct {
	// Name says what the rule checks.
	Name string
	// Flags the rule reads; its examples set only these.
	Flags []string
	// Words are the fixed part of the rule's message, after the flag and its value (empty when
	// the message varies, as mutate's do); the chart's own checks end with the same words.
	Words string
	// Refused examples each fail this rule; Accepted ones pass every rule.
	Refused, Accepted []Example

	serveOnly bool
	check     func(Config) []error
}

// ServeOnly reports whether only `webhook serve` checks the rule (inject checks the shared ones).
func (r Rule) ServeOnly() bool { return r.serveOnly }

// Check runs the rule alone on c.
func (r Rule) Check(c Config) error { return errors.Join(r.check(c)...) }

// one is a check of a single problem: nil when ok holds, else the message.
func one(ok bool, format string, args ...any) []error {
	if ok {
		return nil
	}
	return []error{invalid(format, args...)}
}

// Words of the rules whose chart checks are template code (values.schema.json cannot compare
// durations, and a grammar as a schema pattern prints KBs of regex); the chart's messages say these words.
const (
	WordsSelector        = "not a label selector"
	WordsIP              = "must be an IP address"
	WordsRequestTimeout  = "must be positive and at most 30s (the API server waits at most 30s for a webhook)"
	WordsBodyReadTimeout = "must be positive and at most --request-timeout"
	WordsCertLifetime    = "the certificate must last at least 5s and at most a quarter of the CA"
	// WordsVersionsConfigMap: a namespace (DNS-1123 label) and a ConfigMap name (DNS-1123
	// subdomain).
	WordsVersionsConfigMap = "must be NAMESPACE/NAME: a namespace (a DNS-1123 label, at most 63 characters) and a ConfigMap name (a DNS-1123 subdomain, at most 253 characters)"
)

// Rules are every check of Validate, shared section first. Order is the order of the messages.
// longPrefix is a label key prefix of 255 characters: four DNS labels of 63, each valid, together
// over the 253 a prefix may have (a bound the chart's patterns cannot count, so its template does).
var longPrefix = strings.Repeat(strings.Repeat("p", 63)+".", 3) + strings.Repeat("p", 63)

var Rules = []Rule{
	{
		Name: "version label", Flags: []string{"version-label"},
		Refused:  []Example{{"version-label": ""}},
		Accepted: []Example{{"version-label": "app.kubernetes.io/version"}},
		check: func(c Config) []error {
			return one(c.VersionLabel != "", "--version-label must not be empty")
		},
	},
	{
		Name: "workspace selector", Flags: []string{"workspace-selector"}, Words: WordsSelector,
		Refused: []Example{{"workspace-selector": "a in (b"}, {"workspace-selector": "app=" + strings.Repeat("x", 64)},
			{"workspace-selector": longPrefix + "/k=v"}},
		Accepted: []Example{{"workspace-selector": "a in (b,c),!d,e"}},
		check: func(c Config) []error {
			_, err := labels.Parse(c.WorkspaceSelector)
			return one(err == nil, "--workspace-selector %q: %s: %v", c.WorkspaceSelector, WordsSelector, err)
		},
	},
	{
		Name: "ConfigMap selector", Flags: []string{"configmap-selector"}, Words: WordsSelector,
		Refused: []Example{
			{"configmap-selector": "published in (true"}, {"configmap-selector": "a=b,"},
			{"configmap-selector": "a>b"}, {"configmap-selector": "Bad_/a"}, {"configmap-selector": "a=-b"},
			{"configmap-selector": longPrefix + "/k=v"},
		},
		Accepted: []Example{
			{"configmap-selector": ""}, {"configmap-selector": "tilt-lib.platform/published=true"},
			{"configmap-selector": "a in (),!b, c notin (x, y),d!=e,f==g,h>5"},
		},
		check: func(c Config) []error {
			_, err := labels.Parse(c.ConfigMapSelector)
			return one(err == nil, "--configmap-selector %q: %s: %v", c.ConfigMapSelector, WordsSelector, err)
		},
	},
	mutateRule,
	{
		Name: "port", Flags: []string{"port"}, serveOnly: true,
		Refused:  []Example{{"port": "0"}, {"port": "65536"}},
		Accepted: []Example{{"port": "1"}, {"port": "65535"}},
		check: func(c Config) []error {
			return one(c.Port >= 1 && c.Port <= 65535, "--port %d: must be 1-65535", c.Port)
		},
	},
	{
		Name: "bind address", Flags: []string{"bind-address"}, serveOnly: true, Words: WordsIP,
		Refused:  []Example{{"bind-address": "localhost"}, {"bind-address": "10.0.0"}, {"bind-address": "010.0.0.1"}, {"bind-address": "fe80::1%eth0"}},
		Accepted: []Example{{"bind-address": "0.0.0.0"}, {"bind-address": "::"}, {"bind-address": "10.1.2.3"}, {"bind-address": "fd00::1:2"}, {"bind-address": "::ffff:10.0.0.1"}},
		check: func(c Config) []error {
			return one(c.BindAddress == "" || net.ParseIP(c.BindAddress) != nil, "--bind-address %q: %s", c.BindAddress, WordsIP)
		},
	},
	{
		Name: "side listeners", Flags: []string{"metrics-bind-address", "health-probe-bind-address"}, serveOnly: true,
		Refused:  []Example{{"metrics-bind-address": "8080"}, {"health-probe-bind-address": "localhost"}},
		Accepted: []Example{{"metrics-bind-address": "0"}, {"health-probe-bind-address": "[::1]:8081"}},
		check: func(c Config) []error {
			var errs []error
			for _, a := range []struct{ flag, addr string }{
				{"metrics-bind-address", c.MetricsBindAddress},
				{"health-probe-bind-address", c.HealthProbeBindAddress},
			} {
				if a.addr == "0" {
					continue
				}
				if _, _, err := net.SplitHostPort(a.addr); err != nil {
					errs = append(errs, invalid("--%s %q: want host:port (or \"0\" to disable): %v", a.flag, a.addr, err))
				}
			}
			return errs
		},
	},
	{
		// (--service-namespace is checked by serve: it may come from $POD_NAMESPACE at run time.)
		Name: "certificate mode", Flags: []string{"cert-mode", "cert-secret-name", "webhook-config-name", "service-name"}, serveOnly: true,
		Refused: []Example{
			{"cert-mode": "manual"}, {"cert-secret-name": ""}, {"webhook-config-name": ""}, {"service-name": ""},
		},
		Accepted: []Example{{"cert-mode": CertModeFiles, "cert-secret-name": ""}},
		check: func(c Config) []error {
			switch c.CertMode {
			case CertModeFiles:
				return nil
			case CertModeSelf:
				return one(c.CertSecretName != "" && c.WebhookConfigName != "" && c.ServiceName != "",
					"--cert-mode self needs --service-name, --cert-secret-name and --webhook-config-name")
			}
			return one(false, "--cert-mode %q: must be %q or %q", c.CertMode, CertModeSelf, CertModeFiles)
		},
	},
	{
		// A rotation starts at 2/3 of the CA's life and lasts up to one certificate lifetime; below
		// MinCertLifetime renewals (every 2/3 of it) would turn into a write loop on the Secret.
		Name: "certificate lifetimes", Flags: []string{"ca-lifetime", "cert-lifetime"}, serveOnly: true, Words: WordsCertLifetime,
		Refused: []Example{
			{"cert-lifetime": "4999ms", "ca-lifetime": "1h"}, {"cert-lifetime": "21901h"},
			{"ca-lifetime": "20s", "cert-lifetime": "5001ms"}, {"ca-lifetime": "0s", "cert-lifetime": "0s"},
		},
		Accepted: []Example{{"ca-lifetime": "20s", "cert-lifetime": "5s"}, {"cert-lifetime": "21900h"}, {"ca-lifetime": "0.5h", "cert-lifetime": "7.5m"}},
		check: func(c Config) []error {
			return one(c.CertLifetime >= MinCertLifetime && c.CertLifetime <= c.CALifetime/4,
				"--cert-lifetime %s and --ca-lifetime %s: %s", c.CertLifetime, c.CALifetime, WordsCertLifetime)
		},
	},
	{
		Name: "TLS version", Flags: []string{"tls-min-version"}, serveOnly: true,
		Refused:  []Example{{"tls-min-version": "1.1"}, {"tls-min-version": "1.4"}},
		Accepted: []Example{{"tls-min-version": "1.3"}},
		check: func(c Config) []error {
			return one(slices.Contains([]string{"1.2", "1.3"}, c.TLSMinVersion), "--tls-min-version %q: must be 1.2 or 1.3", c.TLSMinVersion)
		},
	},
	{
		Name: "log level", Flags: []string{"log-level"}, serveOnly: true,
		Refused:  []Example{{"log-level": "loud"}, {"log-level": "11"}, {"log-level": "-1"}, {"log-level": "5abc"}, {"log-level": "+5"}, {"log-level": "05"}},
		Accepted: []Example{{"log-level": "debug"}, {"log-level": "0"}, {"log-level": "10"}},
		check: func(c Config) []error {
			_, err := c.Verbosity()
			return one(err == nil, "--log-level %q: %v", c.LogLevel, err)
		},
	},
	{
		Name: "request timeout", Flags: []string{"request-timeout"}, serveOnly: true, Words: WordsRequestTimeout,
		Refused:  []Example{{"request-timeout": "0s"}, {"request-timeout": "31s"}, {"request-timeout": "1m"}, {"request-timeout": "30001ms"}},
		Accepted: []Example{{"request-timeout": "30s"}, {"request-timeout": "0.5m"}, {"request-timeout": "2s"}},
		check: func(c Config) []error {
			return one(c.RequestTimeout > 0 && c.RequestTimeout <= 30*time.Second, "--request-timeout %s: %s", c.RequestTimeout, WordsRequestTimeout)
		},
	},
	{
		Name: "concurrent reviews", Flags: []string{"max-concurrent-reviews"}, serveOnly: true,
		Refused:  []Example{{"max-concurrent-reviews": "0"}, {"max-concurrent-reviews": "10001"}},
		Accepted: []Example{{"max-concurrent-reviews": "1"}, {"max-concurrent-reviews": "10000"}},
		check: func(c Config) []error {
			return one(c.MaxConcurrentReviews >= 1 && c.MaxConcurrentReviews <= 10000, "--max-concurrent-reviews %d: must be 1-10000", c.MaxConcurrentReviews)
		},
	},
	{
		Name: "body read timeout", Flags: []string{"body-read-timeout", "request-timeout"}, serveOnly: true, Words: WordsBodyReadTimeout,
		Refused:  []Example{{"body-read-timeout": "0s"}, {"body-read-timeout": "11s"}, {"request-timeout": "5s", "body-read-timeout": "5001ms"}},
		Accepted: []Example{{"request-timeout": "5s", "body-read-timeout": "5s"}, {"body-read-timeout": "1ms"}, {"body-read-timeout": "10s"}},
		check: func(c Config) []error {
			return one(c.BodyReadTimeout > 0 && c.BodyReadTimeout <= c.RequestTimeout,
				"--body-read-timeout %s: %s (%s)", c.BodyReadTimeout, WordsBodyReadTimeout, c.RequestTimeout)
		},
	},
	{
		// Big bodies share half of the budget: it must hold one body of the largest size.
		Name: "body budget", Flags: []string{"max-body-bytes-in-flight"}, serveOnly: true,
		Refused:  []Example{{"max-body-bytes-in-flight": fmt.Sprint(MinMaxBodyBytesInFlight - 1)}, {"max-body-bytes-in-flight": fmt.Sprint(MaxMaxBodyBytesInFlight + 1)}},
		Accepted: []Example{{"max-body-bytes-in-flight": fmt.Sprint(MinMaxBodyBytesInFlight)}, {"max-body-bytes-in-flight": fmt.Sprint(MaxMaxBodyBytesInFlight)}},
		check: func(c Config) []error {
			return one(c.MaxBodyBytesInFlight >= MinMaxBodyBytesInFlight && c.MaxBodyBytesInFlight <= MaxMaxBodyBytesInFlight,
				"--max-body-bytes-in-flight %d: must be %d-%d (twice the %d-byte body limit, up to 4 GiB)",
				c.MaxBodyBytesInFlight, MinMaxBodyBytesInFlight, MaxMaxBodyBytesInFlight, review.MaxBodyBytes)
		},
	},
	{
		Name: "Events budget", Flags: []string{"events-per-minute"}, serveOnly: true,
		Refused:  []Example{{"events-per-minute": "0"}, {"events-per-minute": "10001"}},
		Accepted: []Example{{"events-per-minute": "1"}, {"events-per-minute": "10000"}},
		check: func(c Config) []error {
			return one(c.EventsPerMinute >= 1 && c.EventsPerMinute <= 10000, "--events-per-minute %d: must be 1-10000", c.EventsPerMinute)
		},
	},
	{
		Name: "Events QPS", Flags: []string{"events-qps"}, serveOnly: true,
		Refused:  []Example{{"events-qps": "0.09"}, {"events-qps": "1001"}, {"events-qps": "NaN"}},
		Accepted: []Example{{"events-qps": "0.1"}, {"events-qps": "1000"}},
		check: func(c Config) []error {
			// Written so that NaN fails too.
			return one(c.EventsQPS >= 0.1 && c.EventsQPS <= 1000, "--events-qps %g: must be 0.1-1000", c.EventsQPS)
		},
	},
	{
		Name: "Events burst", Flags: []string{"events-burst"}, serveOnly: true,
		Refused:  []Example{{"events-burst": "0"}, {"events-burst": "10001"}},
		Accepted: []Example{{"events-burst": "1"}, {"events-burst": "10000"}},
		check: func(c Config) []error {
			return one(c.EventsBurst >= 1 && c.EventsBurst <= 10000, "--events-burst %d: must be 1-10000", c.EventsBurst)
		},
	},
	{
		Name: "secure metrics need metrics", Flags: []string{"metrics-secure", "metrics-bind-address"}, serveOnly: true,
		Refused:  []Example{{"metrics-secure": "true", "metrics-bind-address": "0"}},
		Accepted: []Example{{"metrics-secure": "true"}},
		check: func(c Config) []error {
			return one(!c.MetricsSecure || c.MetricsBindAddress != "0", "--metrics-secure with --metrics-bind-address 0: there is no metrics endpoint to secure")
		},
	},
	{
		Name: "versions ConfigMap", Flags: []string{"versions-configmap"}, serveOnly: true, Words: WordsVersionsConfigMap,
		Refused: []Example{
			{"versions-configmap": "tilt-lib-injector-versions"}, {"versions-configmap": "/tilt-lib-injector-versions"},
			{"versions-configmap": "tools/"}, {"versions-configmap": "Tools/versions"}, {"versions-configmap": "tools/a/b"},
			{"versions-configmap": "tools/Versions"}, {"versions-configmap": "tools/" + strings.Repeat("v", 254)},
			{"versions-configmap": strings.Repeat("t", 64) + "/versions"},
		},
		Accepted: []Example{
			{"versions-configmap": ""}, {"versions-configmap": "tools/tilt-lib-injector-versions"},
			{"versions-configmap": strings.Repeat("t", 63) + "/" + strings.Repeat("v", 253)}, {"versions-configmap": "tools/a.b"},
		},
		check: func(c Config) []error {
			if c.VersionsConfigMap == "" {
				return nil
			}
			ns, name, ok := strings.Cut(c.VersionsConfigMap, "/")
			return one(ok && len(validation.IsDNS1123Label(ns)) == 0 && len(validation.IsDNS1123Subdomain(name)) == 0,
				"--versions-configmap %q: %s", c.VersionsConfigMap, WordsVersionsConfigMap)
		},
	},
	{
		Name: "ConfigMap series", Flags: []string{"max-configmap-series"}, serveOnly: true,
		Refused:  []Example{{"max-configmap-series": "0"}, {"max-configmap-series": fmt.Sprint(metrics.MaxConfigMapSeriesLimit + 1)}},
		Accepted: []Example{{"max-configmap-series": "1"}, {"max-configmap-series": fmt.Sprint(metrics.MaxConfigMapSeriesLimit)}},
		check: func(c Config) []error {
			return one(c.MaxConfigMapSeries >= 1 && c.MaxConfigMapSeries <= metrics.MaxConfigMapSeriesLimit,
				"--max-configmap-series %d: must be 1-%d", c.MaxConfigMapSeries, metrics.MaxConfigMapSeriesLimit)
		},
	},
}

// mutateRule is the pure core's own validation (mutate.Options.Validate) of the flags it is built
// from. Its messages vary, so it has no Words; the chart repeats the ones it checks in templates.
var mutateRule = Rule{
	Name: "mutation options",
	Flags: []string{"annotation-prefix", "alias", "default-version", "default-templates-version", "lib-configmap",
		"templates-configmap", "lib-mount-path", "templates-mount-path", "containers", "envbox"},
	Refused: []Example{
		{"annotation-prefix": "tilt-lib.platform"}, {"annotation-prefix": "Tilt/"}, {"annotation-prefix": "/"}, {"annotation-prefix": "a..b/"},
		{"alias": "Stable=v2"}, {"alias": "default=v2"}, {"alias": "stable=V2"}, {"alias": "stable=v2.0"},
		{"default-version": "v2.0"}, {"default-version": "V2"}, {"default-templates-version": "x_y"},
		{"lib-configmap": "Tilt_Lib"}, {"templates-configmap": "tilt-lib"}, {"lib-configmap": "tilt"},
		{"lib-mount-path": "apps/tilt-lib"}, {"lib-mount-path": "/apps/"}, {"lib-mount-path": "/"},
		{"lib-mount-path": "/apps/../x"}, {"lib-mount-path": "/apps//x"}, {"templates-mount-path": "/apps/./t"},
		{"templates-mount-path": "/apps/tilt-lib"},
		{"containers": "dev,Bad"},
		{"envbox": "on"}, {"envbox": ""}, {"lib-mount-path": "/apps/tilt:lib"}, {"templates-mount-path": "/apps/a,b"},
		{"envbox": "force", "lib-mount-path": "/apps/a,b"},
	},
	Accepted: []Example{
		{"alias": "stable=default"}, {"alias": "stable="}, {"alias": "stable=v2", "default-version": "stable"},
		{"default-version": "default"}, {"default-templates-version": "v" + strings.Repeat("9", 62)},
		{"lib-mount-path": "/apps/.tilt-lib"}, {"templates-mount-path": "/apps/..t"},
		{"annotation-prefix": "example.com/"}, {"lib-configmap": "lib", "templates-configmap": "templates"},
		{"containers": "dev,tools"},
		{"envbox": "off", "lib-mount-path": "/apps/tilt:lib", "templates-mount-path": "/apps/a,b"}, {"envbox": "force"},
	},
	check: func(c Config) []error {
		if err := c.MutateOptions().Validate(); err != nil {
			return []error{fmt.Errorf("%w: %w", ErrInvalid, err)}
		}
		return nil
	},
}
