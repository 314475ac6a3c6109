package harness

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPollReportsTheDeadline(t *testing.T) {
	calls := 0
	err := Poll(context.Background(), 120*time.Millisecond, func(ctx context.Context) (bool, error) {
		calls++
		<-ctx.Done() // a call that blocks until the deadline, like a request
		return false, ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) || calls != 1 {
		t.Fatalf("err = %v after %d calls; want the deadline after 1", err, calls)
	}
}

func TestPollStopsOnSuccessAndOnError(t *testing.T) {
	n := 0
	if err := Poll(context.Background(), time.Second, func(context.Context) (bool, error) { n++; return n == 3, nil }); err != nil || n != 3 {
		t.Fatalf("err = %v, calls = %d; want success on the third call", err, n)
	}
	boom := errors.New("boom")
	if err := Poll(context.Background(), time.Second, func(context.Context) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
}
