package adoption

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
)

// cappedFixture is fixture with --max-configmap-series limit (0: the default).
func cappedFixture(t *testing.T, limit int, objs ...client.Object) *Collector {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(objs...).Build()
	s := testSettings()
	s.MaxConfigMapSeries = limit
	col, err := New(prometheus.NewRegistry(), c, listedConfigMaps{c, s.VersionLabel, t}, s, always, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	return col
}

// tenantVersion is a 63-character version label, distinct for each i.
func tenantVersion(i int) string {
	v := fmt.Sprintf("t%04d-", i)
	return v + strings.Repeat("x", 63-len(v))
}

// attack is the platform's defaults published in three namespaces, with a workspace on them in
// each, and a tenant's n ConfigMaps tilt-lib-t<i> in its own namespace, each with a version label
// of its own and a workspace pinned to it.
func attack(n int) []client.Object {
	var objs []client.Object
	for _, ns := range []string{"team-a", "team-b", "team-c"} {
		objs = append(objs, configMap(ns, "tilt-lib", "1.4.0"), configMap(ns, "tilt-templates", "1.1.0"),
			pod(ns, "ws", map[string]string{libKey: "default", templatesKey: "default"}))
	}
	for i := range n {
		s := fmt.Sprintf("t%04d", i)
		objs = append(objs, configMap("tenant", "tilt-lib-"+s, tenantVersion(i)),
			pod("tenant", "ws-"+s, map[string]string{libKey: s, templatesKey: "none"}))
	}
	return objs
}

// TestGaugesCapAtTheBound: with cap-1, cap and cap+1 distinct (configmap, version) pairs, at the
// default cap and a configured one, both gauges keep at most cap pairs of their own; beyond, the
// pair held by the fewest namespaces (ties: the highest name) is counted as configmap="other",
// version="", on both gauges, and no Pod or namespace is lost from the totals.
func TestGaugesCapAtTheBound(t *testing.T) {
	for _, limit := range []int{0, 5} {
		capped := limit
		if capped == 0 {
			capped = metrics.DefaultMaxConfigMapSeries
		}
		for _, pairs := range []int{capped - 1, capped, capped + 1} {
			t.Run(fmt.Sprintf("cap %d, %d pairs", capped, pairs), func(t *testing.T) {
				tenant := pairs - 2 // the platform's two pairs are the others
				col := cappedFixture(t, limit, attack(tenant)...)
				pods, versions, _, err := col.count()
				if err != nil {
					t.Fatal(err)
				}
				last := fmt.Sprintf("tilt-lib-t%04d", tenant-1)
				lastPod := podSeries{"tenant", "tilt-lib", last, tenantVersion(tenant - 1)}
				lastVersion := versionSeries{"tilt-lib", last, tenantVersion(tenant - 1)}
				otherPod := podSeries{"tenant", "tilt-lib", Other, ""}
				otherVersion := versionSeries{"tilt-lib", Other, ""}
				wantVersions := pairs
				if pairs > capped {
					wantVersions = capped + 1 // tilt-lib's other
					if pods[lastPod] != 0 || pods[otherPod] != 1 || versions[lastVersion] != 0 || versions[otherVersion] != 1 {
						t.Errorf("beyond the cap, %s should be other on both gauges: pods %d/%d, versions %d/%d",
							last, pods[lastPod], pods[otherPod], versions[lastVersion], versions[otherVersion])
					}
				} else if pods[lastPod] != 1 || versions[lastVersion] != 1 || pods[otherPod] != 0 || versions[otherVersion] != 0 {
					t.Errorf("within the cap, %s should keep its series: pods %v, versions %v", last, pods, versions)
				}
				if len(versions) != wantVersions {
					t.Errorf("%s: %d series, want %d", ConfigMapVersions, len(versions), wantVersions)
				}
				if got := realPairs(pods); got > capped {
					t.Errorf("%s: %d distinct (configmap, version) pairs, cap %d", WorkspacePods, got, capped)
				}
				// The platform's pairs are held by three namespaces: never folded.
				for _, p := range []versionSeries{{"tilt-lib", "tilt-lib", "1.4.0"}, {"tilt-templates", "tilt-templates", "1.1.0"}} {
					if versions[p] != 3 {
						t.Errorf("%v = %d, want 3", p, versions[p])
					}
				}
				if n := sum(versions); n != 6+tenant {
					t.Errorf("%s totals %d namespaces×ConfigMaps, want %d", ConfigMapVersions, n, 6+tenant)
				}
				if n := sum(pods); n != 2*(3+tenant) {
					t.Errorf("%s totals %d Pods×components, want %d", WorkspacePods, n, 2*(3+tenant))
				}
			})
		}
	}
}

// TestTenantConfigMapsFoldIntoOther: the attack in small, 2,000 ConfigMaps under a cap
// of 5: the platform's widely published pairs keep their series, the tenant gets the 3 lowest
// names, and every other of its 1,997 pairs is "other"; the same on every scrape (each replica
// must export the same series for max across replicas).
func TestTenantConfigMapsFoldIntoOther(t *testing.T) {
	col := cappedFixture(t, 5, attack(2000)...)
	first, firstVersions, _, err := col.count()
	if err != nil {
		t.Fatal(err)
	}
	want := map[versionSeries]int{
		{"tilt-lib", "tilt-lib", "1.4.0"}:                3,
		{"tilt-templates", "tilt-templates", "1.1.0"}:    3,
		{"tilt-lib", "tilt-lib-t0000", tenantVersion(0)}: 1,
		{"tilt-lib", "tilt-lib-t0001", tenantVersion(1)}: 1,
		{"tilt-lib", "tilt-lib-t0002", tenantVersion(2)}: 1,
		{"tilt-lib", Other, ""}:                          1997,
	}
	if !maps.Equal(firstVersions, want) {
		t.Fatalf("%s = %v\nwant %v", ConfigMapVersions, firstVersions, want)
	}
	if got := first[podSeries{"tenant", "tilt-lib", Other, ""}]; got != 1997 {
		t.Errorf("tenant Pods on other = %d, want 1997", got)
	}
	if len(first) != 5+3*2 { // tenant: 3 kept, other, skipped templates; 3 teams × 2 components
		t.Errorf("%s: %d series, want 11: %v", WorkspacePods, len(first), first)
	}
	for range 20 {
		again, againVersions, _, err := col.count()
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(again, first) || !maps.Equal(againVersions, firstVersions) {
			t.Fatal("the kept pairs changed between two scrapes of the same caches")
		}
	}
}

// realPairs counts the distinct (configmap, version) pairs of ConfigMaps among pods' series.
func realPairs(pods map[podSeries]int) int {
	seen := map[[2]string]bool{}
	for p := range pods {
		switch p.configMap {
		case NotInjected, Skipped, Missing, Other:
			continue
		}
		seen[[2]string{p.configMap, p.version}] = true
	}
	return len(seen)
}

func sum[K comparable](m map[K]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
