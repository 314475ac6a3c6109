//go:build e2e && linux

package faults

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// full selects the full form: longer runs per fault and the soak (`make faults`). The short form
// (the default, `make e2e`) runs each fault for a few seconds. TILTLIB_FAULTS=full does the same
// as -faults.full, for `go test ./...` invocations that cannot pass flags to one package.
var full = flag.Bool("faults.full", os.Getenv("TILTLIB_FAULTS") == "full", "run the full fault matrix and the soak")

// webhookFlags are every replica's flags besides the harness's (address, certificates, probes).
var webhookFlags = []string{"--log-level=info"}

// c is the control plane and the two replicas every fault works on.
var c *cluster

// cluster is kube-apiserver (with aggregator routing) + etcd, the injector's Service and
// serving certificate, two replicas and the EndpointSlices that follow their readiness.
type cluster struct {
	cp       *harness.ControlPlane
	workDir  string
	binary   string
	svc      harness.Service
	cert     *harness.ServingCert
	replicas []*replica
	eps      *endpoints
	stopEps  context.CancelFunc
	epsErrs  chan error
	epsDone  chan struct{}
	// probeSvc is a Service with no endpoint: the second webhook of the registration, called only
	// for policy-probe Pods, shows which failurePolicy the API server applies right now.
	probeSvc harness.Service
	// link carries the replicas' API traffic (link_test.go).
	link *link
}

// replicaIPs are the replicas' own loopback addresses (Pod IPs, in a cluster).
var replicaIPs = []net.IP{net.IPv4(127, 0, 20, 1), net.IPv4(127, 0, 20, 2)}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	ctx := context.Background()
	start := time.Now()
	var err error
	c, err = startCluster(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "faults: starting: %v\n", err)
		if c != nil {
			fmt.Fprintf(os.Stderr, "faults: logs in %s\n", c.workDir)
			_ = c.close(true)
		}
		return 1
	}
	form := "short"
	if *full {
		form = "full"
	}
	fmt.Printf("faults: control plane + 2 replicas up in %s (%s form; work dir %s)\n",
		time.Since(start).Round(time.Millisecond), form, c.workDir)
	code := m.Run()
	if err := c.close(code != 0); err != nil {
		fmt.Fprintf(os.Stderr, "faults: shutting down: %v\n", err)
		code = 1
	}
	return code
}

func startCluster(ctx context.Context) (c *cluster, err error) {
	workDir, err := os.MkdirTemp("", "tilt-lib-injector-faults-")
	if err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	c = &cluster{workDir: workDir}
	root, err := harness.RepoRoot()
	if err != nil {
		return c, err
	}
	c.binary = filepath.Join(workDir, "bin", "webhook")
	built := make(chan error, 1)
	go func() { built <- harness.GoBuild(ctx, root, "./cmd/webhook", c.binary) }()
	// --enable-aggregator-routing: the API server resolves a webhook's Service to one ready
	// endpoint of its EndpointSlices (cmd/kube-apiserver/app/server.go buildServiceResolver →
	// NewEndpointServiceResolver → k8s.io/apiserver/pkg/util/proxy.ResolveEndpoint, which skips
	// endpoints whose ready condition is false) instead of dialling the ClusterIP.
	//
	// --watch-cache-sizes=namespaces#0,configmaps#0: the watches of the two resources the decision
	// reads go straight to etcd instead of the API server's watch cache, so that compacting etcd
	// expires a watch the webhook resumes (410 Gone, then a relist): the cache would otherwise
	// answer from its own window (docs/benchmarks.md, "Fault matrix").
	flags, err := auditFlags(workDir)
	if err != nil {
		return c, err
	}
	flags["enable-aggregator-routing"] = "true"
	flags["watch-cache-sizes"] = "namespaces#0,configmaps#0"
	cp, cpErr := harness.StartControlPlaneWith("", workDir, flags, nil)
	c.cp = cp
	if err := errors.Join(<-built, cpErr); err != nil {
		return c, err
	}
	if c.svc, err = harness.CreateService(ctx, cp.Client, "tilt-lib-injector", "tilt-lib-injector"); err != nil {
		return c, err
	}
	if c.probeSvc, err = harness.CreateService(ctx, cp.Client, "tilt-lib-injector", "policy-probe"); err != nil {
		return c, err
	}
	if c.cert, err = harness.WriteServingCert(filepath.Join(workDir, "certs"),
		harness.ServiceDNSNames(c.svc.Name, c.svc.Namespace), replicaIPs); err != nil {
		return c, err
	}
	apiURL, err := url.Parse(cp.Config.Host)
	if err != nil {
		return c, fmt.Errorf("API server address %q: %w", cp.Config.Host, err)
	}
	if c.link, err = startLink(apiURL.Host); err != nil {
		return c, err
	}
	own := filepath.Join(workDir, "replica-user.kubeconfig")
	if err := cp.UserKubeconfig(own, replicaUser, "system:masters"); err != nil {
		return c, err
	}
	if err := kubeconfigVia(own, c.linkKubeconfig(), c.link.addr); err != nil {
		return c, err
	}
	for i, ip := range replicaIPs {
		r, err := newReplica(c, fmt.Sprintf("r%d", i+1), ip, c.linkKubeconfig())
		if err != nil {
			return c, err
		}
		c.replicas = append(c.replicas, r)
	}
	for _, r := range c.replicas {
		if err := r.wh.Start(ctx, time.Minute); err != nil {
			return c, err
		}
	}
	c.eps = newEndpoints(c, c.replicas)
	if err := c.eps.sync(ctx); err != nil {
		return c, err
	}
	epsCtx, stop := context.WithCancel(context.Background())
	c.stopEps, c.epsErrs, c.epsDone = stop, make(chan error, 1), make(chan struct{})
	go func() { defer close(c.epsDone); c.eps.run(epsCtx, c.epsErrs) }()
	if err := harness.RegisterWebhook(ctx, cp.Client, c.registration(admissionv1.Ignore)); err != nil {
		return c, err
	}
	if err := c.waitPolicy(ctx, admissionv1.Ignore); err != nil {
		return c, err
	}
	if err := c.waitInjecting(ctx, time.Minute); err != nil {
		return c, fmt.Errorf("registered, but no replica injects (logs: %s): %w", workDir, err)
	}
	return c, nil
}

// close stops the EndpointSlice loop, the replicas and the control plane; keep leaves the work
// dir (logs) in place.
func (c *cluster) close(keep bool) error {
	var errs []error
	if c.stopEps != nil {
		c.stopEps()
		<-c.epsDone
	}
	for _, r := range c.replicas {
		if err := r.wh.Stop(30 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	if c.link != nil {
		errs = append(errs, c.link.cut())
	}
	if c.cp != nil {
		errs = append(errs, c.cp.Stop())
	}
	err := errors.Join(errs...)
	if keep || err != nil {
		fmt.Fprintf(os.Stderr, "faults: kept %s (webhook-r*.log, kube-apiserver.log, etcd.log)\n", c.workDir)
		return err
	}
	return errors.Join(err, os.RemoveAll(c.workDir))
}
