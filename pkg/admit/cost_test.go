package admit

import (
	"math"
	"testing"
)

// TestAllocationsIgnoreEnvAndBytes pins what the slim view is for: a review's allocations do not
// grow with env vars (reduced to whether CODER_AGENT_TOKEN is there) nor with bytes the webhook
// does not read (managedFields), only with containers, volumes and mounts.
//
// It counts without -race only (`make unit` runs it in its second, race-free line): the race
// detector makes sync.Pool drop buffers, and a bigger body then costs more growth steps.
func TestAllocationsIgnoreEnvAndBytes(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race (sync.Pool drops buffers on purpose)")
	}
	p := newPaths(defaultEnv())
	allocs := func(s shape) float64 {
		body := reviewOf(t, v1, "team-a", workspacePod(s), false)
		rp := newReplay(body)
		return testing.AllocsPerRun(200, func() { rp.serve(p.new, body) })
	}
	base := shape{sidecars: 1, env: 0, volumes: 4}
	a0 := allocs(base)
	for name, s := range map[string]shape{
		"300 env vars":  {sidecars: 1, env: 300, volumes: 4},
		"managedFields": {sidecars: 1, volumes: 4, managedFields: true},
	} {
		// sync.Pool may still drop a buffer now and then (after a GC).
		if a := allocs(s); math.Abs(a-a0) > 1.5 {
			t.Errorf("%s: %.1f allocations per review, %.1f without", name, a, a0)
		}
	}
	if more := allocs(shape{sidecars: 3, env: 0, volumes: 4}); more <= a0 {
		t.Errorf("two more containers cost no allocation (%.1f vs %.1f): the measure is broken", more, a0)
	}
}
