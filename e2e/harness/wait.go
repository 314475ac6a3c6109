package harness

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// PollInterval is how often conditions are re-checked: short, because every wait here is for
// an event on this machine (a watch delivered, a listener up) that takes milliseconds.
const PollInterval = 50 * time.Millisecond

// Poll calls cond until it reports true, returns an error, or timeout passes. On timeout the
// error says so and wraps the context error; callers add what they were waiting for.
func Poll(ctx context.Context, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	expired := func() error {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("condition not met within %s: %w", timeout, ctx.Err())
		}
		return ctx.Err()
	}
	for {
		ok, err := cond(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return expired() // the deadline cut a call short: report the deadline, not the call
		case err != nil:
			return err
		case ok:
			return nil
		}
		select {
		case <-ctx.Done():
			return expired()
		case <-tick.C:
		}
	}
}
