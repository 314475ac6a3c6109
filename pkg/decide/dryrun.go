package decide

import "github.com/platform-tools/tilt-lib-injector/pkg/mutate"

// noMetrics and noEvents stand in for the real ones on dry-run requests, which must leave no
// trace: a `kubectl apply --dry-run=server` loop would otherwise inflate adoption numbers.
type noMetrics struct{}

func (noMetrics) Observe(mutate.Result) {}
func (noMetrics) Error(mutate.Reason)   {}
func (noMetrics) Skipped(mutate.Reason) {}

type noEvents struct{}

func (noEvents) Emit(string, []mutate.Finding) {}
