//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// inj is the control plane + webhook every scenario shares.
var inj *harness.Injector

// webhookFlags are the server flags the scenarios rely on (TestAlias uses stable).
var webhookFlags = []string{"--alias=stable=v2", "--alias=next=v3", "--log-level=debug"}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx := context.Background()
	start := time.Now()
	var err error
	inj, err = harness.Start(ctx, harness.Options{WebhookArgs: webhookFlags})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: starting the control plane and webhook: %v\n", err)
		if inj != nil {
			fmt.Fprintf(os.Stderr, "e2e: logs in %s\n", inj.WorkDir)
		}
		return 1
	}
	fmt.Printf("e2e: control plane + webhook up in %s (work dir %s, webhook on %s, pid %d)\n",
		time.Since(start).Round(time.Millisecond), inj.WorkDir, inj.Service.Addr(), inj.Webhook.PID())

	code := m.Run()
	if code == 0 {
		// The last webhook lifetime's counters must equal everything the scenarios accounted.
		if err := lifetime.check(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: metrics totals: %v\n", err)
			code = 1
		}
	}
	if code != 0 {
		inj.KeepWorkDir()
		fmt.Fprintf(os.Stderr, "e2e: kept %s (webhook.log, kube-apiserver.log, etcd.log, kubeconfig)\n", inj.WorkDir)
	}
	if err := inj.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: shutting down: %v\n", err)
		code = 1
	}
	return code
}
