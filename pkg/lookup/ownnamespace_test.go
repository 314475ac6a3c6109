package lookup

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestOwnNamespaceIsNeverOurs: the chart keeps ConfigMaps in the injector's namespace whose names
// start with a base name (tilt-lib-injector-dashboard, -client-ca, -versions). None of them is a
// tilt-lib version: no path into the store (Replace, Add, the watch-list Transformer, a listed
// page's trim) keeps one, while the same names in a workspace namespace are kept as before.
func TestOwnNamespaceIsNeverOurs(t *testing.T) {
	s := settings
	s.OwnNamespace = "tli-system"
	chart := []string{"tilt-lib-injector-dashboard", "tilt-lib-injector-client-ca", "tilt-lib-injector-versions", "tilt-lib", "tilt-lib-v2"}
	v := map[string]string{"version": "2.0.1"}
	var objs []*metav1.PartialObjectMetadata
	for _, n := range chart {
		objs = append(objs, meta(n, "tli-system", v, nil), meta(n, "team-a", v, nil))
	}
	replaced, added, transformed := NewConfigMapStore(s), NewConfigMapStore(s), NewConfigMapStore(s)
	var list []any
	for _, o := range objs {
		list = append(list, o.DeepCopy())
		if err := added.Add(o.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		out, err := transformed.Transformer()(o.DeepCopy())
		if err != nil {
			t.Fatal(err)
		}
		if err := transformed.Add(out); err != nil {
			t.Fatal(err)
		}
		if kept := transformed.trim(o.DeepCopy()); kept != (o.Namespace == "team-a") {
			t.Errorf("a listed page keeps %s/%s: %v", o.Namespace, o.Name, kept)
		}
	}
	if err := replaced.Replace(list, "1"); err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]*ConfigMapStore{"Replace": replaced, "Add": added, "Transformer": transformed} {
		n := 0
		st.Range(func(k ConfigMapKey, _ string) {
			n++
			if k.Namespace == "tli-system" {
				t.Errorf("%s: kept %s/%s from the injector's own namespace", name, k.Namespace, k.Name)
			}
		})
		if n != len(chart) {
			t.Errorf("%s: %d ConfigMaps kept, want the %d in team-a", name, n, len(chart))
		}
		if _, ok := st.Get(ConfigMapKey{"tli-system", "tilt-lib-v2"}); ok {
			t.Errorf("%s: tli-system/tilt-lib-v2 found", name)
		}
	}
}
