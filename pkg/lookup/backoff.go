package lookup

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	toolscache "k8s.io/client-go/tools/cache"
)

// The Reflectors' backoff between a failed list or watch and the next attempt.
//
// Why not client-go's default (800 ms doubling to 30 s, jitter 100%, reset only after 2 minutes
// without a failure): after a watch expires (410 Gone: etcd compacted past the Reflector's
// resource version, typically after a link or API server outage) the Reflector relists only
// after that backoff, and meanwhile the replica stays ready and answers from the old store. The
// outage itself counts failures, so the relist came 12–23 s after the API server was reachable
// again (docs/benchmarks.md, "Fault matrix"): pins changed during the outage ignored for that
// long. The goal is a changed pin honoured within 5 s of the API server's return.
//
// Why a 1 s cap: after an outage the delay is paid twice in a row — the resumed watch waits one
// delay, is answered 410, and the relist waits another — so the worst case is twice
// MaxRelistDelay (3 s) plus the list itself, inside the 5 s goal. A 2 s cap measured 0.9–3.5 s
// but allowed 6 s.
//
// The cost in API server load: each replica runs two Reflectors, one lists every Namespace's
// metadata and the other only our ConfigMaps (the selected ones with --configmap-selector); both
// are served from the API server's watch cache by default. At the cap, a replica whose watches
// fail persistently makes at most two list-or-watch attempts per 1–1.5 s, about 1.6 requests/s,
// against client-go's ~0.07 at its 30 s cap. Persistent failures are mostly cheap for the API
// server (connections refused while it is down, 403s rejected before any list work), and its
// API Priority and Fairness queues the injector's requests apart from other clients'. A healthy
// watch is never backed off: the delay is paid only after a failure, and a successful watch
// lasts minutes (client-go's 5–10 min timeout), so a steady cluster sees no more lists than
// before.
const (
	relistBackoffInit   = 200 * time.Millisecond
	relistBackoffCap    = time.Second
	relistBackoffFactor = 2.0
	// relistBackoffJitter spreads the replicas' retries (each delay d becomes d..d×1.5) so that
	// they do not relist in step after an outage.
	relistBackoffJitter = 0.5
	// MaxRelistDelay bounds every delay the backoff yields: the cap with its jitter.
	MaxRelistDelay = relistBackoffCap + time.Duration(relistBackoffJitter*float64(relistBackoffCap))
)

// relistBackoff returns a fresh copy of the Reflectors' backoff (wait.Backoff is stepped in
// place, so each Reflector gets its own).
func relistBackoff() *wait.Backoff {
	return &wait.Backoff{
		Duration: relistBackoffInit,
		Factor:   relistBackoffFactor,
		Jitter:   relistBackoffJitter,
		Cap:      relistBackoffCap,
		// Steps only has to last until the cap is reached (200 ms × 2³ > 1 s); after that the
		// delay stays at the cap. Fewer steps would freeze it below the cap, at a faster rate.
		Steps: int(relistBackoffCap / relistBackoffInit),
	}
}

// newReflector is the one place the Reflectors get their options: the short backoff above.
func newReflector(name string, lw toolscache.ListerWatcher, store toolscache.ReflectorStore) *toolscache.Reflector {
	return toolscache.NewReflectorWithOptions(lw, &metav1.PartialObjectMetadata{}, store,
		toolscache.ReflectorOptions{Name: "tilt-lib-injector " + name, Backoff: relistBackoff()})
}
