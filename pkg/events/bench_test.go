package events

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

type nopRecorder struct{}

func (nopRecorder) Eventf(_, _ runtime.Object, _, _, _, _ string, _ ...interface{}) {}

// BenchmarkRecordWith40000Keys records fresh keys while 40,000 live (unexpired) keys are already
// tracked: the cost per record must not grow with the number of keys.
func BenchmarkRecordWith40000Keys(b *testing.B) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := New(nopRecorder{}, Options{Interval: time.Hour, MaxKeys: 1 << 20, Now: func() time.Time { return now }})
	// A budget that never binds (one Event per nanosecond, the clock's step): this measures the
	// per-key bookkeeping, which the budget sits in front of.
	e.budget = newBudget(time.Nanosecond, 1)
	for i := 0; i < 40000; i++ {
		now = now.Add(time.Nanosecond)
		e.record(item{key: key{namespace: fmt.Sprintf("ns-%d", i), component: "tilt-lib", reason: mutate.ReasonConfigMapMissing}, message: "m"})
	}
	keys := make([]item, b.N)
	for i := range keys {
		keys[i] = item{key: key{namespace: fmt.Sprintf("new-%d", i), component: "tilt-lib", reason: mutate.ReasonConfigMapMissing}, message: "m"}
	}
	if e.limit.len() != 40000 {
		b.Fatalf("keys = %d, want 40000 live keys", e.limit.len())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range keys {
		now = now.Add(time.Nanosecond)
		e.record(keys[i])
	}
}
