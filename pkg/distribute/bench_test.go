package distribute

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// BenchmarkPlan: one pass's decision at 2,000 namespaces × 6 sources of 3 KB, before the first
// sync (12,000 creates) and in the steady state (12,000 copies in sync): what every event costs
// the leader in CPU before any write.
func BenchmarkPlan(b *testing.B) {
	s := settings()
	s.MaxSources, s.MaxSourceBytes = 32, DefaultMaxSourceBytes
	var srcs []*corev1.ConfigMap
	for _, n := range []string{"tilt-lib", "tilt-lib-v1", "tilt-lib-v2", "tilt-templates", "tilt-templates-v1", "tilt-templates-v2"} {
		srcs = append(srcs, source(n, "v1", map[string]string{"lib.star": strings.Repeat("# library line\n", 200)}))
	}
	var nss []Namespace
	var copies []*corev1.ConfigMap
	for i := range 2000 {
		name := fmt.Sprintf("team-%04d", i)
		nss = append(nss, ns(name, true))
		for _, src := range srcs {
			copies = append(copies, copyOf(src, name))
		}
	}
	for _, bc := range []struct {
		name string
		in   Input
		want Kind
	}{
		{"first-sync", Input{Sources: srcs, Namespaces: nss}, Create},
		{"steady", Input{Sources: srcs, Namespaces: nss, Copies: copies}, Leave},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				acts := Plan(s, bc.in)
				if len(acts) != 12000 || acts[0].Kind != bc.want {
					b.Fatalf("%d actions, first %s", len(acts), acts[0].Kind)
				}
			}
		})
	}
}
