package lookup

import (
	"context"
	"errors"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"
)

// streamed serves objects as a watch-list stream (initial Added events, then the bookmark that
// ends them) and refuses to list: a Reflector must take the watch-list path, which buffers the
// initial objects through the store's Transformer.
type streamed struct {
	objs []*metav1.PartialObjectMetadata
}

func (s streamed) lw() *toolscache.ListWatch {
	return &toolscache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			return nil, errors.New("list called: the watch-list path was not taken")
		},
		WatchFuncWithContext: func(_ context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			w := watch.NewFakeWithChanSize(len(s.objs)+1, false)
			if opts.SendInitialEvents == nil || !*opts.SendInitialEvents {
				return w, nil
			}
			for _, o := range s.objs {
				w.Add(o.DeepCopy())
			}
			w.Action(watch.Bookmark, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "100",
				Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}}})
			return w, nil
		},
	}
}

// TestWatchListStream: through a real Reflector's watch-list path (the one a current API server
// takes), the stores answer for every Namespace and keep exactly our ConfigMaps.
func TestWatchListStream(t *testing.T) {
	const n = 30
	var nss, cms []*metav1.PartialObjectMetadata
	for i := range n {
		ns := realisticNamespace(i)
		if i%3 == 0 {
			delete(ns.Annotations, "tilt-lib.platform/version")
			delete(ns.Annotations, "tilt-lib.platform/templates-version")
		}
		nss = append(nss, ns)
		cms = append(cms, realisticConfigMaps(i)...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := NewCaches(settings, nil, nil)
	for _, f := range []struct {
		objs  []*metav1.PartialObjectMetadata
		store toolscache.TransformingStore
	}{{nss, c.Namespaces}, {cms, c.ConfigMaps}} {
		go toolscache.NewReflectorWithOptions(streamed{f.objs}.lw(), &metav1.PartialObjectMetadata{}, f.store, toolscache.ReflectorOptions{}).RunWithContext(ctx)
	}
	if err := waitSynced(ctx, c.HasSynced); err != nil {
		t.Fatal("never synced")
	}
	for i := range n {
		name := fmt.Sprintf("team-%06d", i)
		ann, found, _ := c.NamespaceAnnotations(ctx, name)
		want := map[string]string{"tilt-lib.platform/version": "v2", "tilt-lib.platform/templates-version": "default"}
		if i%3 == 0 {
			want = nil
		}
		if !found || fmt.Sprint(ann) != fmt.Sprint(want) {
			t.Errorf("%s: %v %v, want %v", name, ann, found, want)
		}
		if v, ok := c.Version(name, "tilt-lib-v2"); ok != (i%10 == 0) || ok && v != "2.0.1" {
			t.Errorf("%s: tilt-lib-v2 %v %q", name, ok, v)
		}
	}
	kept := 0
	c.ConfigMaps.Range(func(ConfigMapKey, string) { kept++ })
	if kept != n/10 || c.Namespaces.Len() != n {
		t.Errorf("kept %d ConfigMaps and %d Namespaces, want %d and %d", kept, c.Namespaces.Len(), n/10, n)
	}
}
