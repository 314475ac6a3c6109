//go:build e2e

package node

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

var (
	// inj is the control plane + webhook every scenario shares; node the kubelet beside it.
	inj  *harness.Injector
	node *harness.Node
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

// logf prints a progress line of the node suite (visible with go test -v, as `make e2e` runs it).
func logf(format string, args ...any) { fmt.Printf("e2e/node: "+format+"\n", args...) }

func run(m *testing.M) int {
	if why := harness.NodeUnavailable(""); why != "" {
		fmt.Printf("e2e/node: skipped: %s; run `make test` as root (CI does) to include it\n", why)
		return 0
	}
	crlog.SetLogger(logr.Discard()) // controller-runtime's client (creating examples/) logs nothing we read
	ctx := context.Background()
	start := time.Now()
	var err error
	if node, err = harness.PrepareNode(ctx, harness.NodeOptions{Logf: logf}); err != nil {
		fmt.Fprintf(os.Stderr, "e2e/node: preparing the node: %v\n", err)
		return 1
	}
	// The node starts once the webhook is up and before it is registered: the registration's
	// readiness check creates (dry-run) Pods, which ServiceAccount admission admits only once the
	// controller-manager has made the namespace's default ServiceAccount.
	inj, err = harness.Start(ctx, harness.Options{
		APIServerFlags: node.APIServerFlags(),
		BeforeRegister: func(ctx context.Context, inj *harness.Injector) error { return node.Start(ctx, inj.ControlPlane) },
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e/node: starting the control plane, node and webhook: %v (node logs in %s)\n", err, node.LogDir())
		stopNode() // Start has stopped the control plane and webhook
		return 1
	}
	logf("control plane + node + webhook up in %s (node logs in %s)", time.Since(start).Round(time.Millisecond), node.LogDir())
	code := m.Run()
	if code != 0 {
		inj.KeepWorkDir()
		fmt.Fprintf(os.Stderr, "e2e/node: kept %s (webhook, kube-apiserver, etcd logs); node logs in %s\n", inj.WorkDir, node.LogDir())
	}
	// The node stops before the control plane: its controllers would only log errors about a
	// vanished API server.
	if !stopNode() {
		code = 1
	}
	if err := inj.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e/node: stopping the control plane: %v\n", err)
		code = 1
	}
	return code
}

// stopNode stops the node and restores the host; false (and the differences on stderr) when the
// host could not be restored to its state before the run.
func stopNode() bool {
	start := time.Now()
	if err := node.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e/node: stopping the node and restoring the host: %v\n", err)
		return false
	}
	logf("node stopped; host restored and verified in %s (routes, sysctls, mounts, cgroups, bridge, processes)",
		time.Since(start).Round(time.Millisecond))
	return true
}
