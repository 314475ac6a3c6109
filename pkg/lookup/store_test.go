package lookup

import (
	"context"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
)

func namespace(name string, ann map[string]string) *metav1.PartialObjectMetadata {
	return meta(name, "", map[string]string{"team": name}, ann)
}

func TestNamespaceStore(t *testing.T) {
	s := NewNamespaceStore(settings.AnnotationPrefix)
	if s.HasSynced() {
		t.Fatal("synced before the first list")
	}
	pinned := map[string]string{"tilt-lib.platform/version": "v2", "owner": "a@example.com"}
	if err := s.Replace([]any{namespace("team-a", pinned), namespace("team-b", nil)}, "1"); err != nil {
		t.Fatal(err)
	}
	if !s.HasSynced() {
		t.Fatal("not synced after the first list")
	}
	check := func(name string, want map[string]string, wantFound bool) {
		t.Helper()
		ann, found := s.Annotations(name)
		if found != wantFound || !reflect.DeepEqual(ann, want) {
			t.Errorf("%s: %v %v, want %v %v", name, ann, found, want, wantFound)
		}
	}
	v2 := map[string]string{"tilt-lib.platform/version": "v2"}
	check("team-a", v2, true)
	check("team-b", nil, true) // exists, no pin: found, as with the informer cache
	check("team-c", nil, false)

	// A pin removed by an update; a Namespace deleted as a tombstone (a deletion the watch missed).
	if err := s.Update(namespace("team-a", map[string]string{"owner": "a"})); err != nil {
		t.Fatal(err)
	}
	check("team-a", nil, true)
	if err := s.Delete(toolscache.DeletedFinalStateUnknown{Key: "team-b", Obj: namespace("team-b", nil)}); err != nil {
		t.Fatal(err)
	}
	check("team-b", nil, false)
	if err := s.Add("not an object"); err == nil {
		t.Error("a non-object was stored")
	}
}

// TestNamespaceStoreSharesPins: equal pins are one map, and a pin no Namespace holds any more is
// forgotten (otherwise every value ever set would stay).
func TestNamespaceStoreSharesPins(t *testing.T) {
	s := NewNamespaceStore(settings.AnnotationPrefix)
	v2 := map[string]string{"tilt-lib.platform/version": "v2"}
	for _, n := range []string{"a", "b", "c"} {
		if err := s.Add(namespace(n, v2)); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := s.Annotations("a")
	c, _ := s.Annotations("c")
	if reflect.ValueOf(a).UnsafePointer() != reflect.ValueOf(c).UnsafePointer() {
		t.Error("equal pins not shared")
	}
	for i, v := range []string{"v3", "v4", "v5"} {
		if err := s.Update(namespace("a", map[string]string{"tilt-lib.platform/version": v})); err != nil {
			t.Fatal(err)
		}
		if want := 2; len(s.pins) != want {
			t.Errorf("after update %d: %d pins kept, want %d", i, len(s.pins), want)
		}
	}
	for _, n := range []string{"a", "b", "c"} {
		if err := s.Delete(namespace(n, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.pins) != 0 || s.Len() != 0 {
		t.Errorf("after deleting all: %d pins, %d namespaces", len(s.pins), s.Len())
	}
	// Values that concatenate alike are different pins.
	x := map[string]string{"tilt-lib.platform/a": "bc"}
	y := map[string]string{"tilt-lib.platform/ab": "c"}
	_ = s.Add(namespace("x", x))
	_ = s.Add(namespace("y", y))
	if ax, _ := s.Annotations("x"); !reflect.DeepEqual(ax, x) {
		t.Errorf("x = %v", ax)
	}
	if ay, _ := s.Annotations("y"); !reflect.DeepEqual(ay, y) {
		t.Errorf("y = %v", ay)
	}
}

func TestConfigMapStore(t *testing.T) {
	s := NewConfigMapStore(settings)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s.WaitForSync(ctx) {
		t.Fatal("WaitForSync true before the first list")
	}
	list := []any{
		meta("tilt-lib-v2", "team-a", map[string]string{"version": "2.0.1"}, nil),
		meta("tilt-templates", "team-a", nil, nil),
		meta("kube-root-ca.crt", "team-a", map[string]string{"version": "1"}, nil),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tilt-lib", Namespace: "team-b"}}, // any object type
	}
	if err := s.Replace(list, "1"); err != nil {
		t.Fatal(err)
	}
	if !s.WaitForSync(context.Background()) || !s.HasSynced() {
		t.Fatal("not synced after the first list")
	}
	got := map[ConfigMapKey]string{}
	s.Range(func(k ConfigMapKey, v string) { got[k] = v })
	want := map[ConfigMapKey]string{{"team-a", "tilt-lib-v2"}: "2.0.1", {"team-a", "tilt-templates"}: "", {"team-b", "tilt-lib"}: ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stored %v, want %v (only ours)", got, want)
	}
	if err := s.Update(meta("tilt-lib-v2", "team-a", map[string]string{"version": "2.0.2"}, nil)); err != nil {
		t.Fatal(err)
	}
	if v, ok := s.Get(ConfigMapKey{"team-a", "tilt-lib-v2"}); !ok || v != "2.0.2" {
		t.Errorf("after update: %q %v", v, ok)
	}
	if err := s.Delete(toolscache.DeletedFinalStateUnknown{Key: "team-a/tilt-lib-v2", Obj: meta("tilt-lib-v2", "team-a", nil, nil)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get(ConfigMapKey{"team-a", "tilt-lib-v2"}); ok {
		t.Error("tombstone did not delete")
	}
}

// TestTransformersKeepWhatStoresRead: a store fed the Transformer's output (the Reflector's
// watch-list buffer, our trimmed list pages) answers exactly as one fed the objects.
func TestTransformersKeepWhatStoresRead(t *testing.T) {
	objs := []*metav1.PartialObjectMetadata{
		namespace("team-a", map[string]string{"tilt-lib.platform/version": "v2", "tilt-lib.platform/x": "", "other": "y"}),
		namespace("team-b", map[string]string{"other": "y"}),
	}
	raw, trimmed := NewNamespaceStore(settings.AnnotationPrefix), NewNamespaceStore(settings.AnnotationPrefix)
	for _, o := range objs {
		_ = raw.Add(o.DeepCopy())
		out, err := trimmed.Transformer()(o.DeepCopy())
		if err != nil {
			t.Fatal(err)
		}
		if c := out.(*compact); c.labels != nil || c.annotations["other"] != "" {
			t.Errorf("not trimmed: %+v", c)
		}
		_ = trimmed.Add(out)
	}
	for _, n := range []string{"team-a", "team-b"} {
		a1, f1 := raw.Annotations(n)
		a2, f2 := trimmed.Annotations(n)
		if f1 != f2 || !reflect.DeepEqual(a1, a2) {
			t.Errorf("%s: %v %v vs trimmed %v %v", n, a1, f1, a2, f2)
		}
	}

	cms := []*metav1.PartialObjectMetadata{
		meta("tilt-lib-v2", "team-a", map[string]string{"version": "2.0.1", "app": "x"}, map[string]string{"big": "x"}),
		meta("tilt-lib", "team-a", nil, nil),
		meta("kube-root-ca.crt", "team-a", map[string]string{"version": "1"}, nil),
	}
	rawCm, trimmedCm := NewConfigMapStore(settings), NewConfigMapStore(settings)
	for _, o := range cms {
		_ = rawCm.Add(o.DeepCopy())
		out, _ := trimmedCm.Transformer()(o.DeepCopy())
		switch c := out.(*compact); {
		case !settings.Ours(o.Namespace, o.Name) && c != notOurs:
			t.Errorf("%s: %+v, want the one shared entry for ConfigMaps not ours", o.Name, c)
		case c.annotations != nil || len(c.labels) > 1:
			t.Errorf("not trimmed: %+v", c)
		}
		_ = trimmedCm.Add(out)
	}
	if !reflect.DeepEqual(rawCm.items, trimmedCm.items) || len(rawCm.items) != 2 {
		t.Errorf("raw %v, trimmed %v", rawCm.items, trimmedCm.items)
	}
}

// TestBufferSharesPins: the watch-list buffer holds one annotations map per distinct pin, not one
// per Namespace, and forgets them once the list is stored.
func TestBufferSharesPins(t *testing.T) {
	s := NewNamespaceStore(settings.AnnotationPrefix)
	v2 := map[string]string{"tilt-lib.platform/version": "v2", "owner": "x"}
	var list []any
	for _, n := range []string{"a", "b"} {
		out, err := s.Transformer()(namespace(n, v2))
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, out)
	}
	a, b := list[0].(*compact), list[1].(*compact)
	if reflect.ValueOf(a.annotations).UnsafePointer() != reflect.ValueOf(b.annotations).UnsafePointer() {
		t.Error("equal pins buffered as separate maps")
	}
	if err := s.Replace(list, "1"); err != nil {
		t.Fatal(err)
	}
	if s.buf != nil {
		t.Errorf("buffer kept after Replace: %v", s.buf)
	}
	if ann, found := s.Annotations("b"); !found || !reflect.DeepEqual(ann, map[string]string{"tilt-lib.platform/version": "v2"}) {
		t.Errorf("b = %v %v", ann, found)
	}
}
