//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// counters are the metrics the suite accounts for exactly: every admission the scenarios cause
// must show up in them, and nothing else may.
var counters = []string{harness.InjectionsTotal, harness.ReviewsTotal, harness.EnvboxTotal}

// ledger is what one webhook process should have counted since it started. Counters live in the
// process, so a restart starts a new ledger (see TestFailurePolicyAndRestart).
type ledger struct {
	mu       sync.Mutex
	expected harness.Expect
}

var lifetime = &ledger{expected: harness.Expect{}}

func (l *ledger) add(e harness.Expect) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expected.Merge(e)
}

func (l *ledger) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expected = harness.Expect{}
}

// check compares the running process's absolute counters with the ledger. Dry-run probes are not
// counted by the server, so the totals are exactly the sum of the scenarios' deltas.
func (l *ledger) check(ctx context.Context) error {
	l.mu.Lock()
	want := harness.Expect{}
	want.Merge(l.expected)
	l.mu.Unlock()
	now, err := inj.Scrape(ctx)
	if err != nil {
		return err
	}
	if bad := want.Mismatches(harness.Snapshot{}, now, counters...); len(bad) > 0 {
		return fmt.Errorf("counters since the webhook (pid %d) started differ from the scenarios:\n  %s",
			inj.Webhook.PID(), strings.Join(bad, "\n  "))
	}
	return nil
}

// scrape takes a snapshot before a scenario acts.
func scrape(t *testing.T) harness.Snapshot {
	t.Helper()
	sn, err := inj.Scrape(context.Background())
	if err != nil {
		t.Fatalf("scraping metrics: %v", err)
	}
	return sn
}

// expectDelta asserts that, since before, the accounted counters moved by exactly want, and adds
// want to the lifetime ledger. The server counts before it answers, but the wait (bounded) keeps
// the assertion honest should that ever become asynchronous.
func expectDelta(t *testing.T, before harness.Snapshot, want harness.Expect) {
	t.Helper()
	lifetime.add(want)
	var bad []string
	err := harness.Poll(context.Background(), 5*time.Second, func(ctx context.Context) (bool, error) {
		after, err := inj.Scrape(ctx)
		if err != nil {
			return false, err
		}
		bad = want.Mismatches(before, after, counters...)
		return len(bad) == 0, nil
	})
	if err != nil {
		t.Errorf("metric deltas differ from what this scenario did (%v):\n  %s", err, strings.Join(bad, "\n  "))
	}
}

// injected is the expected increments of one Pod that got both components.
func injected(lib, templates want, reason string) harness.Expect {
	return harness.Expect{}.
		Add(harness.Injection("tilt-lib", lib.ConfigMap, lib.Version, string(lib.Source)), 1).
		Add(harness.Injection("tilt-templates", templates.ConfigMap, templates.Version, string(templates.Source)), 1).
		Add(harness.Review("injected", reason), 1)
}
