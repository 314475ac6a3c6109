package metrics

import "sync"

// OtherConfigMap is the configmap label of every (configmap, version) pair beyond a metric's cap
// (--max-configmap-series), with version "". Like "missing", it is not a ConfigMap name: ours are
// "<base>" or "<base>-<v>".
const OtherConfigMap = "other"

// DefaultMaxConfigMapSeries is the default of --max-configmap-series: far more versions than a
// platform publishes at once, far fewer series than a tenant's ConfigMaps could make.
const DefaultMaxConfigMapSeries = 100

// MaxConfigMapSeriesLimit is the largest --max-configmap-series accepted.
const MaxConfigMapSeriesLimit = 10000

// pairs admits at most max distinct (configmap, version) pairs, first come, first kept, for the
// life of the process: a counter's series never goes away, so a pair once admitted stays
// admitted and its count stays exact. Every later pair is counted as (OtherConfigMap, ""). Safe
// for concurrent use.
type pairs struct {
	max  int
	mu   sync.RWMutex
	seen map[[2]string]struct{}
}

func newPairs(max int) *pairs {
	return &pairs{max: max, seen: make(map[[2]string]struct{}, max)}
}

// label returns the label values to count configMap and version under.
func (p *pairs) label(configMap, version string) (string, string) {
	k := [2]string{configMap, version}
	p.mu.RLock()
	_, ok := p.seen[k]
	p.mu.RUnlock()
	if ok {
		return configMap, version
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.seen[k]; ok {
		return configMap, version
	}
	if len(p.seen) >= p.max {
		return OtherConfigMap, ""
	}
	p.seen[k] = struct{}{}
	return configMap, version
}
