package main

import (
	"crypto/tls"

	"github.com/go-logr/logr"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
	"github.com/platform-tools/tilt-lib-injector/pkg/metricsauth"
)

// serverTLS is what every TLS listener of serve shares: the minimum version and, unless
// --enable-http2, HTTP/1.1 only (the rapid-reset attacks, CVE-2023-44487; the API server speaks
// HTTP/1.1 to webhooks and Prometheus to targets just as well).
func serverTLS(cfg tlconfig.Config) []func(*tls.Config) {
	opts := []func(*tls.Config){func(c *tls.Config) { c.MinVersion = cfg.TLSVersion() }}
	if !cfg.EnableHTTP2 {
		opts = append(opts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	return opts
}

// metricsOptions serves /metrics in plain HTTP to anyone who reaches the port, or with
// --metrics-secure over HTTPS (controller-runtime's self-signed certificate: the token is what
// needs protecting on the wire) to callers whose bearer token the API server authenticates
// (TokenReview) and allows `get` on the /metrics non-resource URL (SubjectAccessReview; see
// pkg/metricsauth). The metrics name namespaces and versions; an open port shows them to anyone
// in the cluster.
func metricsOptions(cfg tlconfig.Config, log logr.Logger) metricsserver.Options {
	o := metricsserver.Options{BindAddress: cfg.MetricsBindAddress}
	if cfg.MetricsSecure {
		o.SecureServing = true
		o.FilterProvider = metricsauth.FilterProvider(log.WithName("metrics"))
		o.TLSOpts = serverTLS(cfg)
	}
	return o
}
