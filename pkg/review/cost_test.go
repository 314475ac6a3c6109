package review

import (
	"math"
	"testing"

	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

// TestAllocationsIgnoreEnvAndBytes pins what the slim view is for: a review's allocations do not
// grow with env vars (reduced to the indexes of CODER_AGENT_TOKEN and envbox's vars) nor with bytes the webhook
// does not read (managedFields), only with containers, volumes and mounts.
//
// It counts without -race only (`make unit` runs it in its second, race-free line): the race
// detector makes sync.Pool drop buffers, and a bigger body then costs more growth steps.
func TestAllocationsIgnoreEnvAndBytes(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops buffers on purpose)")
	}
	p := newPaths(defaultEnv())
	allocs := func(s reviewtest.Shape) float64 {
		body := reviewOf(t, v1, "team-a", reviewtest.WorkspacePod(s), false)
		rp := newReplay(body)
		return testing.AllocsPerRun(200, func() { rp.serve(p.new, body) })
	}
	base := reviewtest.Shape{Sidecars: 1, Env: 0, Volumes: 4}
	a0 := allocs(base)
	for name, s := range map[string]reviewtest.Shape{
		"300 env vars":  {Sidecars: 1, Env: 300, Volumes: 4},
		"managedFields": {Sidecars: 1, Volumes: 4, ManagedFields: true},
	} {
		// sync.Pool may still drop a buffer now and then (after a GC).
		if a := allocs(s); math.Abs(a-a0) > 1.5 {
			t.Errorf("%s: %.1f allocations per review, %.1f without", name, a, a0)
		}
	}
	if more := allocs(reviewtest.Shape{Sidecars: 3, Env: 0, Volumes: 4}); more <= a0 {
		t.Errorf("two more containers cost no allocation (%.1f vs %.1f): the measure is broken", more, a0)
	}
}
