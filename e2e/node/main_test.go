//go:build e2e

package node

import (
	"context"
	"fmt"
	"maps"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// The chart's release: its fullname is the release name (it contains the chart's name).
const (
	release   = "tilt-lib-injector"
	releaseNS = "tilt-lib-injector"
)

var (
	// inj is the control plane every scenario shares (its Webhook is nil: the injector runs as the
	// chart's Pods); node the kubelet beside it; chart the injector helm installed on the node.
	inj   *harness.Injector
	node  *harness.Node
	chart *harness.NodeChart
	// chartValues are the helm arguments of the suite's install (harness.NodeChartValues).
	chartValues []string
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
	start := time.Now()
	var err error
	if node, err = harness.PrepareNode(context.Background(), harness.NodeOptions{Logf: logf}); err != nil {
		fmt.Fprintf(os.Stderr, "e2e/node: preparing the node: %v\n", err)
		return 1
	}
	code := 1
	if err = setUp(start); err != nil {
		fmt.Fprintf(os.Stderr, "e2e/node: %v (node logs in %s)\n", err, node.LogDir())
	} else {
		code = m.Run()
	}
	if code != 0 && inj != nil {
		inj.KeepWorkDir()
		fmt.Fprintf(os.Stderr, "e2e/node: kept %s (kube-apiserver, etcd logs); node logs in %s\n", inj.WorkDir, node.LogDir())
	}
	// The node's processes end first (the API server waits for its clients' watches to end), then
	// the control plane, then the host is restored: the API server serves on the bridge's
	// address, which goes with the bridge.
	if err := node.Halt(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e/node: stopping the node's components: %v\n", err)
		code = 1
	}
	if inj != nil {
		stopped := time.Now()
		if err := inj.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e/node: stopping the control plane: %v\n", err)
			code = 1
		} else {
			logf("control plane stopped in %s", time.Since(stopped).Round(time.Millisecond))
		}
	}
	if !stopNode() {
		code = 1
	}
	return code
}

// setUp starts the control plane on the node's bridge address, the node, and installs the chart.
func setUp(start time.Time) error {
	ctx := context.Background()
	workDir, err := os.MkdirTemp("", "tilt-lib-injector-")
	if err != nil {
		return err
	}
	flags := maps.Clone(node.APIServerFlags())
	maps.Copy(flags, harness.NodeChartAPIServerFlags)
	cp, err := harness.StartControlPlaneWith("", workDir, flags, node.APIServerAddr())
	if err != nil {
		_ = os.RemoveAll(workDir)
		return fmt.Errorf("starting etcd + kube-apiserver: %w", err)
	}
	inj = &harness.Injector{ControlPlane: cp, WorkDir: workDir}
	if err := node.Start(ctx, cp); err != nil {
		return fmt.Errorf("starting the node: %w", err)
	}
	logf("control plane (on %s) + node up in %s", node.APIServerAddr(), time.Since(start).Round(time.Millisecond))
	installed := time.Now()
	chartValues = harness.NodeChartValues(node.APIServerAddr())
	if chart, err = harness.InstallChart(ctx, cp, workDir, release, releaseNS, chartValues, 3*time.Minute); err != nil {
		return fmt.Errorf("helm install: %w", err)
	}
	if err := inj.WaitInjecting(ctx, time.Minute); err != nil {
		return fmt.Errorf("chart installed, Pods Ready, but the API server does not reach them: %w", err)
	}
	logf("helm install → both injector Pods Ready and injecting in %s", time.Since(installed).Round(time.Millisecond))
	return nil
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
