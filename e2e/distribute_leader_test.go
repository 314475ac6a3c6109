//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestDistributeLeader: with two replicas only the Lease holder watches and writes; when it
// stops, the other takes over.
func TestDistributeLeader(t *testing.T) {
	d := newDistSetup(t, "lead")
	lib := d.source(t, "tilt-lib", "v1.0.0", map[string]string{"tilt_lib.star": "v1"})
	ns := d.target(t, true)

	first := d.distributor(t, "first")
	waitCM(t, ns, lib.Name, "copy from the first replica", inSyncWith(lib))
	second := d.distributor(t, "second")

	// Activity while both run: the first restores the copy, the second does nothing.
	for i := 0; i < 3; i++ {
		restoreLatency(t, ns, lib.Name)
	}
	waitCM(t, ns, lib.Name, "restored", inSyncWith(lib))
	passes := distSeries("tiltlib_distribute_passes_total")
	creates := distSeries("tiltlib_distribute_writes_total", "kind", "create")
	if sn := scrapeDist(t, first); sn.Get(creates) < 4 {
		t.Errorf("the leader made %v creates, want at least 4", sn.Get(creates))
	}
	if sn := scrapeDist(t, second); sn.Get(passes) != 0 || sn.Get(creates) != 0 {
		t.Errorf("the standby ran %v passes and %v creates, want none:\n%v", sn.Get(passes), sn.Get(creates),
			sn.Lines("tiltlib_distribute_passes_total", "tiltlib_distribute_writes_total"))
	}

	// The leader stops (and releases the Lease): the standby takes over and heals.
	if err := first.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	restoreLatency(t, ns, lib.Name)
	err := harness.Poll(context.Background(), 30*time.Second, func(context.Context) (bool, error) {
		return scrapeDist(t, second).Get(creates) >= 1, nil
	})
	if err != nil {
		t.Fatalf("the standby did not take over: %v", err)
	}
}
