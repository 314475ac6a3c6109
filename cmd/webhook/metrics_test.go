package main

import (
	"crypto/tls"
	"slices"
	"testing"

	"github.com/go-logr/logr"

	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
)

// Plain metrics by default; --metrics-secure serves HTTPS behind the token filter, with the same
// TLS floor and HTTP/1.1-only as the webhook.
func TestMetricsOptions(t *testing.T) {
	cfg := tlconfig.Default()
	o := metricsOptions(cfg, logr.Discard())
	if o.SecureServing || o.FilterProvider != nil || o.BindAddress != ":8080" {
		t.Fatalf("default metrics options: %+v", o)
	}
	cfg.MetricsSecure, cfg.TLSMinVersion = true, "1.3"
	o = metricsOptions(cfg, logr.Discard())
	if !o.SecureServing || o.FilterProvider == nil {
		t.Fatalf("--metrics-secure: secure=%v filter=%v", o.SecureServing, o.FilterProvider != nil)
	}
	c := &tls.Config{NextProtos: []string{"h2"}} // controller-runtime's starting point
	for _, opt := range o.TLSOpts {
		opt(c)
	}
	if c.MinVersion != tls.VersionTLS13 || !slices.Equal(c.NextProtos, []string{"http/1.1"}) {
		t.Fatalf("metrics TLS: min %x, ALPN %v", c.MinVersion, c.NextProtos)
	}
}
