package adoption

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// NewReady registers tiltlib_ready on reg: 1 while ready() holds, else 0, evaluated at every
// scrape. The server passes the very function behind /readyz, so the gauge and the probe cannot
// disagree.
func NewReady(reg prometheus.Registerer, ready func() bool) error {
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: Ready,
		Help: "1 while this replica would answer /readyz OK (caches synced, certificate served, in self mode the caBundle published), else 0.",
	}, func() float64 {
		if ready() {
			return 1
		}
		return 0
	})
	if err := reg.Register(g); err != nil {
		return fmt.Errorf("registering tiltlib_ready: %w", err)
	}
	return nil
}
