package adoption

import (
	"cmp"
	"slices"

	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
)

// Other is the configmap label of every (configmap, version) pair beyond
// Settings.MaxConfigMapSeries, with version "" (metrics.OtherConfigMap).
const Other = metrics.OtherConfigMap

// kept returns the (configmap, version) pairs of held that keep a series of their own: all of
// them when they are at most limit, else the limit pairs held by the most namespaces, ties going
// to the lower configmap, then version, in byte order. A nil result keeps every pair.
//
// Why by namespaces: what the platform publishes is synced to many namespaces, while a tenant's
// own ConfigMaps (without --configmap-selector, or with the marker forged) are in the tenant's
// few; so under the cap the tenant's pairs are the ones that become "other". The order is total,
// so every replica and every scrape of unchanged caches keeps the same pairs (max across
// replicas stays correct), and both gauges keep the same ones: a pair is on the workspace gauge
// only if it is on the published one.
func kept(held map[versionSeries]int, limit int) map[versionSeries]bool {
	if len(held) <= limit {
		return nil
	}
	type counted struct {
		p versionSeries
		n int
	}
	ranked := make([]counted, 0, len(held))
	for p, n := range held {
		ranked = append(ranked, counted{p, n})
	}
	slices.SortFunc(ranked, func(a, b counted) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.p.configMap, b.p.configMap),
			cmp.Compare(a.p.version, b.p.version), cmp.Compare(a.p.component, b.p.component))
	})
	keep := make(map[versionSeries]bool, limit)
	for _, r := range ranked[:limit] {
		keep[r.p] = true
	}
	return keep
}

// capVersions folds every pair of held outside keep into (component, Other, "").
func capVersions(held map[versionSeries]int, keep map[versionSeries]bool) map[versionSeries]int {
	if keep == nil {
		return held
	}
	out := make(map[versionSeries]int, len(keep)+1)
	for p, n := range held {
		if !keep[p] {
			p = versionSeries{p.component, Other, ""}
		}
		out[p] += n
	}
	return out
}
