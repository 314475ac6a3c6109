//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/rollout"
)

// The rollout metrics and their arms (docs/design.md, "Rollouts on the dashboard"), written down
// again as the contract's spelling.
const (
	rolloutPercentMetric    = "tiltlib_rollout_percent"
	rolloutWorkspacesMetric = "tiltlib_rollout_workspaces"
)

var rolloutArms = []rollout.Arm{"canary", "baseline", "pending", "reverted", "no_key", "unavailable"}

// armCounts are the expected Pods of one rollout's component per arm; an arm not listed is 0.
type armCounts map[rollout.Arm]int

// expectRolloutGauges waits until every replica exports tiltlib_rollout_percent{rollout=name} =
// percent and tiltlib_rollout_workspaces{rollout=name, component} = want for every arm (an arm not
// in want must be exported as 0), and returns how long that took. The gauges are read at scrape
// time from the Pod informer: a creation or deletion reaches them within a watch event.
func expectRolloutGauges(t *testing.T, phase string, replicas []*harness.Webhook, name, component string, percent float64, want armCounts) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	err := harness.Poll(context.Background(), gaugeDeadline, func(ctx context.Context) (bool, error) {
		for _, w := range replicas {
			sn, err := harness.Scrape(ctx, w.MetricsAddr)
			if err != nil {
				return false, err
			}
			got := armCounts{}
			exported := true
			for _, a := range rolloutArms {
				k := harness.Series{Name: rolloutWorkspacesMetric, Labels: map[string]string{"rollout": name, "component": component, "arm": string(a)}}.Key()
				v, ok := sn.Values[k]
				exported = exported && ok
				if v != 0 {
					got[a] = int(v)
				}
			}
			p := sn.Get(harness.Series{Name: rolloutPercentMetric, Labels: map[string]string{"rollout": name}})
			last = fmt.Sprintf("%s: percent %g, arms %v (every arm exported: %v)", w.MetricsAddr, p, got, exported)
			if !exported || p != percent || !maps.Equal(got, want) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Errorf("%s: the rollout gauges never showed percent %g and %v: last %s (%v)", phase, percent, want, last, err)
	}
	return time.Since(start)
}

// splitArms counts, for the running workspaces 1 to total, recorded in the canary (was) and
// given the canary by the rollout in force (now), each standing: canary, reverted, pending,
// baseline.
func splitArms(total int, was, now map[int]bool) armCounts {
	c := armCounts{}
	for i := 1; i <= total; i++ {
		switch {
		case was[i] && now[i]:
			c["canary"]++
		case was[i]:
			c["reverted"]++
		case now[i]:
			c["pending"]++
		default:
			c["baseline"]++
		}
	}
	for a, n := range c {
		if n == 0 {
			delete(c, a)
		}
	}
	return c
}
