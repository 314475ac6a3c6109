package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// load loads serve's configuration (every flag).
func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	return LoadServe(fs, args, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

// loadInject loads inject's configuration (the shared section) on fs.
func loadInject(t *testing.T, fs *pflag.FlagSet, args []string, env map[string]string) (Config, error) {
	t.Helper()
	return LoadInject(fs, args, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsAreValid(t *testing.T) {
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 9443 || c.CertMode != CertModeSelf || c.AnnotationPrefix != "tilt-lib.platform/" ||
		!reflect.DeepEqual(c.Containers, []string{"dev"}) || c.TLSVersion() != 0x0303 {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestPrecedenceFlagOverEnvOverFile(t *testing.T) {
	file := writeFile(t, `
default-version: v1
default-templates-version: v1
containers: [dev, tools]
alias: {stable: v2, edge: v3}
port: 10443
cert-lifetime: 24h
`)
	c, err := load(t, []string{"--config", file, "--default-version", "v3"},
		map[string]string{"TILTLIB_DEFAULT_VERSION": "v2", "TILTLIB_DEFAULT_TEMPLATES_VERSION": "v2"})
	if err != nil {
		t.Fatal(err)
	}
	if c.DefaultVersion != "v3" { // flag beats env and file
		t.Errorf("default-version = %q, want v3 (flag)", c.DefaultVersion)
	}
	if c.DefaultTemplatesVersion != "v2" { // env beats file
		t.Errorf("default-templates-version = %q, want v2 (env)", c.DefaultTemplatesVersion)
	}
	if c.Port != 10443 || c.CertLifetime != 24*time.Hour { // file beats default
		t.Errorf("port=%d cert-lifetime=%s from file", c.Port, c.CertLifetime)
	}
	if !reflect.DeepEqual(c.Containers, []string{"dev", "tools"}) || !reflect.DeepEqual(c.Aliases, map[string]string{"stable": "v2", "edge": "v3"}) {
		t.Errorf("containers=%v aliases=%v", c.Containers, c.Aliases)
	}
	o := c.MutateOptions()
	if o.Component(mutate.LibVolume).DefaultVersion != "v3" || o.Component(mutate.TemplatesVolume).DefaultVersion != "v2" || o.Aliases["stable"] != "v2" {
		t.Errorf("mutate options = %+v", o)
	}
}

func TestRepeatableAliasFlagAndEnvConfigFile(t *testing.T) {
	file := writeFile(t, "alias: [stable=v2]\n")
	c, err := load(t, []string{"--alias", "stable=v2", "--alias", "edge=v3"}, map[string]string{"TILTLIB_CONFIG": file})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Aliases, map[string]string{"stable": "v2", "edge": "v3"}) {
		t.Fatalf("aliases = %v", c.Aliases)
	}
}

func TestInvalidConfigurationsReportEveryProblem(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		file string
		want []string
	}{
		{"several at once", []string{"--port", "70000", "--tls-min-version", "1.0", "--cert-mode", "self", "--cert-secret-name", ""}, nil, "",
			[]string{"--port 70000", "--tls-min-version", "--cert-mode self needs"}},
		{"unknown cert mode", []string{"--cert-mode", "manual"}, nil, "", []string{`--cert-mode "manual"`}},
		{"cert a third of the CA", []string{"--ca-lifetime", "30s", "--cert-lifetime", "10s"}, nil, "", []string{"at most a quarter of the CA"}},
		{"cert below the minimum", []string{"--ca-lifetime", "20s", "--cert-lifetime", "4999ms"}, nil, "", []string{"at least 5s"}},
		{"zero lifetimes", []string{"--ca-lifetime", "0s", "--cert-lifetime", "0s"}, nil, "", []string{"--cert-lifetime 0s"}},
		{"bad alias", []string{"--alias", "Stable=v2"}, nil, "", []string{`alias name "Stable"`}},
		{"bad default version", nil, map[string]string{"TILTLIB_DEFAULT_VERSION": "V2!"}, "", []string{`default lib version "V2!"`}},
		{"bad env value type", nil, map[string]string{"TILTLIB_PORT": "https"}, "", []string{"TILTLIB_PORT"}},
		{"bad selector", []string{"--workspace-selector", "a in (b"}, nil, "", []string{"--workspace-selector"}},
		{"bad ConfigMap selector", nil, map[string]string{"TILTLIB_CONFIGMAP_SELECTOR": "published in (true"}, "", []string{`--configmap-selector "published in (true"`}},
		{"no ConfigMap series", []string{"--max-configmap-series", "0"}, nil, "", []string{"--max-configmap-series 0: must be 1-10000"}},
		{"ConfigMap series above the bound", nil, nil, "max-configmap-series: 10001\n", []string{"--max-configmap-series 10001"}},
		{"bad mount path", []string{"--lib-mount-path", "apps/x"}, nil, "", []string{"--lib-mount-path"}},
		{"same mount path", []string{"--templates-mount-path", "/apps/tilt-lib"}, nil, "", []string{"also the lib mount path"}},
		{"bad bind address", []string{"--bind-address", "localhost"}, nil, "", []string{"--bind-address"}},
		{"bad metrics address", []string{"--metrics-bind-address", "8080"}, nil, "", []string{"--metrics-bind-address"}},
		{"bad log level", []string{"--log-level", "loud"}, nil, "", []string{"--log-level"}},
		{"unknown file key", nil, nil, "default_version: v2\n", []string{`unknown key "default_version"`}},
		{"file not a map", nil, nil, "- a\n- b\n", []string{"not a YAML map"}},
		{"lifetimes", []string{"--cert-lifetime", "100000h"}, nil, "", []string{"--cert-lifetime"}},
		{"request timeout zero", []string{"--request-timeout", "0s"}, nil, "", []string{"--request-timeout 0s"}},
		{"request timeout above the API server's 30s", []string{"--request-timeout", "31s"}, nil, "", []string{"--request-timeout 31s"}},
		{"no concurrent reviews", nil, map[string]string{"TILTLIB_MAX_CONCURRENT_REVIEWS": "0"}, "", []string{"--max-concurrent-reviews 0"}},
		{"body read timeout zero", []string{"--body-read-timeout", "0s"}, nil, "", []string{"--body-read-timeout 0s"}},
		{"body read timeout beyond the request's", []string{"--request-timeout", "5s", "--body-read-timeout", "5001ms"}, nil, "", []string{"--body-read-timeout 5.001s"}},
		{"body budget below two bodies", nil, map[string]string{"TILTLIB_MAX_BODY_BYTES_IN_FLIGHT": "6291455"}, "", []string{"--max-body-bytes-in-flight 6291455"}},
		{"body budget above 4 GiB", nil, nil, "max-body-bytes-in-flight: 4294967297\n", []string{"--max-body-bytes-in-flight 4294967297"}},
		{"no Events budget", []string{"--events-per-minute", "0"}, nil, "", []string{"--events-per-minute 0"}},
		{"Events budget above the bound", nil, map[string]string{"TILTLIB_EVENTS_PER_MINUTE": "10001"}, "", []string{"--events-per-minute 10001"}},
		{"Events QPS below the bound", []string{"--events-qps", "0.09"}, nil, "", []string{"--events-qps 0.09"}},
		{"Events QPS above the bound", nil, nil, "events-qps: 1001\n", []string{"--events-qps 1001"}},
		{"Events QPS NaN", []string{"--events-qps", "NaN"}, nil, "", []string{"--events-qps NaN"}},
		{"no Events burst", []string{"--events-burst", "0"}, nil, "", []string{"--events-burst 0"}},
		{"Events burst above the bound", []string{"--events-burst", "10001"}, nil, "", []string{"--events-burst 10001"}},
		{"secure metrics without metrics", []string{"--metrics-secure", "--metrics-bind-address", "0"}, nil, "", []string{"--metrics-secure"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if c.file != "" {
				args = append(args, "--config", writeFile(t, c.file))
			}
			_, err := load(t, args, c.env)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestSelfModeWithShortLifetimesIsValid(t *testing.T) {
	c, err := load(t, []string{"--cert-mode", "self", "--service-namespace", "tools", "--ca-lifetime", "40s", "--cert-lifetime", "10s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.CertMode != CertModeSelf || c.CALifetime != 40*time.Second || c.CertLifetime != 10*time.Second {
		t.Fatalf("%+v", c)
	}
	// At the bounds: the shortest certificate, exactly a quarter of the CA.
	if _, err := load(t, []string{"--ca-lifetime", "20s", "--cert-lifetime", MinCertLifetime.String()}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestMissingConfigFile(t *testing.T) {
	_, err := load(t, []string{"--config", "/nonexistent/tiltlib.yaml"}, nil)
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "/nonexistent/tiltlib.yaml") {
		t.Fatalf("err = %v", err)
	}
}

// Every Config field has a flag of the name in its tag, registered by exactly one of the two
// sections: the chart's values map onto flags one to one, so a field without a flag would be
// unreachable from the chart, and one in both sections would be registered twice.
func TestEveryFieldHasItsFlag(t *testing.T) {
	c := Default()
	shared := pflag.NewFlagSet("shared", pflag.ContinueOnError)
	c.AddSharedFlags(shared)
	serveOnly := pflag.NewFlagSet("serve-only", pflag.ContinueOnError)
	c.addServeOnlyFlags(serveOnly)
	typ := reflect.TypeOf(c)
	for i := 0; i < typ.NumField(); i++ {
		name := typ.Field(i).Tag.Get("flag")
		if name == "" || (shared.Lookup(name) == nil) == (serveOnly.Lookup(name) == nil) {
			t.Errorf("field %s: flag %q must be in exactly one section", typ.Field(i).Name, name)
		}
	}
	if n := len(Keys()); n != typ.NumField() {
		t.Errorf("%d flags for %d fields", n, typ.NumField())
	}
	if EnvName("default-templates-version") != "TILTLIB_DEFAULT_TEMPLATES_VERSION" {
		t.Error(EnvName("default-templates-version"))
	}
}

// The shared section is a contract of `webhook inject`: this list re-declares it on purpose, so
// moving a flag between sections is a visible decision. Serve-only additions do not touch it.
func TestInjectRegistersOnlyTheSharedSection(t *testing.T) {
	want := []string{"annotation-prefix", "default-version", "default-templates-version", "alias", "containers",
		"lib-configmap", "templates-configmap", "lib-mount-path", "templates-mount-path", "version-label",
		"workspace-selector", "envbox", "configmap-selector", "config"}
	fs := pflag.NewFlagSet("inject", pflag.ContinueOnError)
	fs.SortFlags = false
	if _, err := loadInject(t, fs, nil, nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	fs.VisitAll(func(f *pflag.Flag) { got = append(got, f.Name) })
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("inject flags = %v\nwant %v", got, want)
	}
	if _, err := loadInject(t, pflag.NewFlagSet("inject", pflag.ContinueOnError), []string{"--port", "9443"}, nil); err == nil ||
		!strings.Contains(err.Error(), "unknown flag: --port") {
		t.Fatalf("inject --port: err = %v", err)
	}
}

// inject neither reads nor checks serve-only variables: TILTLIB_PORT=abc in a shared shell
// profile must not break it. serve still rejects them.
func TestInjectIgnoresServeOnlyEnvironment(t *testing.T) {
	env := map[string]string{"TILTLIB_PORT": "abc", "TILTLIB_LOG_LEVEL": "loud", "TILTLIB_CERT_MODE": "nope", "TILTLIB_DEFAULT_VERSION": "v2"}
	c, err := loadInject(t, pflag.NewFlagSet("inject", pflag.ContinueOnError), nil, env)
	if err != nil {
		t.Fatalf("inject: %v", err)
	}
	if c.DefaultVersion != "v2" || c.Port != Default().Port || c.LogLevel != Default().LogLevel {
		t.Errorf("inject read the wrong variables: default-version %q, port %d, log-level %q", c.DefaultVersion, c.Port, c.LogLevel)
	}
	if _, err := load(t, nil, env); err == nil || !strings.Contains(err.Error(), "TILTLIB_PORT") {
		t.Errorf("serve: err = %v, want the bad TILTLIB_PORT", err)
	}
	if _, err := load(t, nil, map[string]string{"TILTLIB_LOG_LEVEL": "loud"}); err == nil || !strings.Contains(err.Error(), "--log-level") {
		t.Errorf("serve: err = %v, want the bad log level", err)
	}
}

// One --config file serves both subcommands: each takes the keys of its own flags and skips the
// other's (even a value the other would reject), but a key of no flag at all is still an error.
func TestConfigFileServesBothSubcommands(t *testing.T) {
	file := writeFile(t, "default-version: v2\nport: 10443\nlog-level: debug\ncert-mode: bogus\n")
	c, err := loadInject(t, pflag.NewFlagSet("inject", pflag.ContinueOnError), []string{"--config", file}, nil)
	if err != nil {
		t.Fatalf("inject: %v", err)
	}
	if c.DefaultVersion != "v2" || c.Port != Default().Port || c.LogLevel != Default().LogLevel {
		t.Errorf("inject: default-version %q, port %d, log-level %q", c.DefaultVersion, c.Port, c.LogLevel)
	}
	if _, err := load(t, []string{"--config", file}, nil); err == nil || !strings.Contains(err.Error(), `--cert-mode "bogus"`) {
		t.Errorf("serve: err = %v, want cert-mode bogus rejected", err)
	}
	bad := writeFile(t, "default-version: v2\nprot: 10443\n")
	for name, err := range map[string]error{
		"inject": func() error {
			_, err := loadInject(t, pflag.NewFlagSet("inject", pflag.ContinueOnError), []string{"--config", bad}, nil)
			return err
		}(),
		"serve": func() error { _, err := load(t, []string{"--config", bad}, nil); return err }(),
	} {
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `unknown key "prot"`) {
			t.Errorf("%s: err = %v, want unknown key", name, err)
		}
	}
}

// A subcommand's own flags (inject's -o) come from the command line only: no TILTLIB_OUTPUT, no
// `output:` key, so a file that configures inject's output cannot break serve.
func TestCallerFlagsAreCommandLineOnly(t *testing.T) {
	fs := pflag.NewFlagSet("inject", pflag.ContinueOnError)
	out := fs.StringP("output", "o", "yaml", "")
	if _, err := loadInject(t, fs, nil, map[string]string{"TILTLIB_OUTPUT": "patch"}); err != nil || *out != "yaml" {
		t.Errorf("TILTLIB_OUTPUT: output %q, err %v", *out, err)
	}
	fs = pflag.NewFlagSet("inject", pflag.ContinueOnError)
	fs.StringP("output", "o", "yaml", "")
	if _, err := loadInject(t, fs, []string{"--config", writeFile(t, "output: patch\n")}, nil); err == nil ||
		!strings.Contains(err.Error(), `unknown key "output"`) {
		t.Errorf("output key: err = %v", err)
	}
}

// The HTTP edge's defaults and bounds (pkg/review's Edge): 10s and 32 by default; 30s and 1 are accepted.
func TestEdgeDefaultsAndBounds(t *testing.T) {
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.RequestTimeout != 10*time.Second || c.MaxConcurrentReviews != 32 || c.ClientCA != "" {
		t.Fatalf("edge defaults: timeout=%s max=%d clientCA=%q", c.RequestTimeout, c.MaxConcurrentReviews, c.ClientCA)
	}
	c, err = load(t, []string{"--request-timeout", "30s", "--max-concurrent-reviews", "1", "--client-ca", "/tls/ca.crt"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.RequestTimeout != 30*time.Second || c.MaxConcurrentReviews != 1 || c.ClientCA != "/tls/ca.crt" {
		t.Fatalf("edge flags: %+v", c)
	}
}

// Bodies (issue 23): 2s and 16 MiB by default; each bound accepted at its edge (the cases just
// beyond are in TestInvalidConfigurationsReportEveryProblem).
func TestBodyDefaultsAndBounds(t *testing.T) {
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.BodyReadTimeout != 2*time.Second || c.MaxBodyBytesInFlight != 16<<20 {
		t.Fatalf("defaults: body-read-timeout=%s max-body-bytes-in-flight=%d", c.BodyReadTimeout, c.MaxBodyBytesInFlight)
	}
	for _, args := range [][]string{
		{"--body-read-timeout", "1ms", "--max-body-bytes-in-flight", "6291456"},
		{"--request-timeout", "5s", "--body-read-timeout", "5s", "--max-body-bytes-in-flight", "4294967296"},
	} {
		if _, err := load(t, args, nil); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
	c, err = load(t, nil, map[string]string{"TILTLIB_BODY_READ_TIMEOUT": "500ms", "TILTLIB_MAX_BODY_BYTES_IN_FLIGHT": "33554432"})
	if err != nil || c.BodyReadTimeout != 500*time.Millisecond || c.MaxBodyBytesInFlight != 32<<20 {
		t.Fatalf("from the environment: %s %d %v", c.BodyReadTimeout, c.MaxBodyBytesInFlight, err)
	}
	c, err = load(t, []string{"--config", writeFile(t, "max-body-bytes-in-flight: 8388608\nbody-read-timeout: 3s\n")}, nil)
	if err != nil || c.BodyReadTimeout != 3*time.Second || c.MaxBodyBytesInFlight != 8<<20 {
		t.Fatalf("from the file: %s %d %v", c.BodyReadTimeout, c.MaxBodyBytesInFlight, err)
	}
}

// Events and metrics access: the defaults, and each bound accepted at its edge (the cases just
// beyond are in TestInvalidConfigurationsReportEveryProblem).
func TestEventsAndMetricsDefaultsAndBounds(t *testing.T) {
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.EventsPerMinute != 60 || c.EventsQPS != 5 || c.EventsBurst != 10 || c.MetricsSecure {
		t.Fatalf("defaults: events-per-minute=%d events-qps=%g events-burst=%d metrics-secure=%v",
			c.EventsPerMinute, c.EventsQPS, c.EventsBurst, c.MetricsSecure)
	}
	for _, args := range [][]string{
		{"--events-per-minute", "1", "--events-qps", "0.1", "--events-burst", "1", "--metrics-secure"},
		{"--events-per-minute", "10000", "--events-qps", "1000", "--events-burst", "10000"},
	} {
		if _, err := load(t, args, nil); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
	c, err = load(t, nil, map[string]string{"TILTLIB_EVENTS_QPS": "2.5", "TILTLIB_METRICS_SECURE": "true"})
	if err != nil || c.EventsQPS != 2.5 || !c.MetricsSecure {
		t.Fatalf("from the environment: qps=%g secure=%v err=%v", c.EventsQPS, c.MetricsSecure, err)
	}
}

// The platform's marker and the series cap: off and 100 by default (docs/design.md says why),
// from a flag, the environment or the file, each bound accepted at its edge; inject takes the
// selector (it reads ConfigMaps) and rejects one that does not parse, but not the cap (no metrics).
func TestConfigMapSelectorAndSeriesCap(t *testing.T) {
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.ConfigMapSelector != "" || c.MaxConfigMapSeries != 100 {
		t.Fatalf("defaults: configmap-selector %q, max-configmap-series %d", c.ConfigMapSelector, c.MaxConfigMapSeries)
	}
	for _, args := range [][]string{{"--max-configmap-series", "1"}, {"--max-configmap-series", "10000"}} {
		if _, err := load(t, args, nil); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
	c, err = load(t, []string{"--config", writeFile(t, "configmap-selector: tilt-lib.platform/published=true\nmax-configmap-series: 7\n")}, nil)
	if err != nil || c.ConfigMapSelector != "tilt-lib.platform/published=true" || c.MaxConfigMapSeries != 7 {
		t.Fatalf("from the file: selector %q, cap %d, err %v", c.ConfigMapSelector, c.MaxConfigMapSeries, err)
	}
	fs := pflag.NewFlagSet("inject", pflag.ContinueOnError)
	c, err = loadInject(t, fs, nil, map[string]string{"TILTLIB_CONFIGMAP_SELECTOR": "team in (platform)", "TILTLIB_MAX_CONFIGMAP_SERIES": "0"})
	if err != nil || c.ConfigMapSelector != "team in (platform)" {
		t.Fatalf("inject from the environment: selector %q, err %v", c.ConfigMapSelector, err)
	}
	if _, err := loadInject(t, pflag.NewFlagSet("inject", pflag.ContinueOnError), []string{"--configmap-selector", "a in (b"}, nil); err == nil ||
		!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "--configmap-selector") {
		t.Errorf("inject with a bad selector: err = %v", err)
	}
}
