package lookup

import (
	"context"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
)

// published is the platform's marker in these tests.
const published = "tilt-lib.platform/published=true"

func typedConfigMap(ns, name string, labels map[string]string) *metav1.PartialObjectMetadata {
	m := meta(name, ns, labels, nil)
	m.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
	return m
}

// TestConfigMapSelectorIsAppliedByTheAPIServer: with --configmap-selector, the ConfigMap
// Reflector's list and watch both carry the selector, so the API server (here the fake client,
// which filters lists by label) never sends a ConfigMap without the marker: the tenant's
// tilt-lib-v9 does not exist for the decision. The Namespace Reflector is not filtered.
func TestConfigMapSelectorIsAppliedByTheAPIServer(t *testing.T) {
	marked := map[string]string{"version": "1.4.0", "tilt-lib.platform/published": "true"}
	scheme := metadatafake.NewTestScheme()
	for _, kind := range []string{"ConfigMap", "Namespace"} {
		scheme.AddKnownTypeWithName(schema.GroupVersionKind{Version: "v1", Kind: kind}, &metav1.PartialObjectMetadata{})
		scheme.AddKnownTypeWithName(schema.GroupVersionKind{Version: "v1", Kind: kind + "List"}, &metav1.PartialObjectMetadataList{})
	}
	client := metadatafake.NewSimpleMetadataClient(scheme,
		typedConfigMap("team-a", "tilt-lib", marked),
		typedConfigMap("team-a", "tilt-lib-v9", map[string]string{"version": "tenant's own"}),
		typedConfigMap("team-a", "tilt-templates", map[string]string{"version": "1.1.0", "tilt-lib.platform/published": "false"}),
	)
	var mu sync.Mutex
	selectors := map[string][]string{} // resource -> label selectors asked for, list and watch
	record := func(a clienttesting.Action) {
		var r string
		switch a := a.(type) {
		case clienttesting.ListAction:
			r = a.GetListRestrictions().Labels.String()
		case clienttesting.WatchAction:
			r = a.GetWatchRestrictions().Labels.String()
		}
		mu.Lock()
		defer mu.Unlock()
		selectors[a.GetResource().Resource+" "+a.GetVerb()] = append(selectors[a.GetResource().Resource+" "+a.GetVerb()], r)
	}
	client.PrependReactor("list", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		record(a)
		return false, nil, nil
	})
	client.PrependWatchReactor("*", func(a clienttesting.Action) (bool, watch.Interface, error) {
		record(a)
		return false, nil, nil
	})

	s := settings
	s.ConfigMapSelector = published
	c := NewCaches(s, client, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Start(ctx) }()
	if err := waitSynced(ctx, c.HasSynced); err != nil {
		t.Fatal("never synced")
	}
	if v, ok := c.Version("team-a", "tilt-lib"); !ok || v != "1.4.0" {
		t.Errorf("marked tilt-lib: %q %v, want 1.4.0 found", v, ok)
	}
	for _, name := range []string{"tilt-lib-v9", "tilt-templates"} {
		if v, ok := c.Version("team-a", name); ok {
			t.Errorf("%s without the marker was kept (version %q): it must not exist", name, v)
		}
	}
	// The watch starts right after the list; wait for it before reading what was asked.
	if err := waitSynced(ctx, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(selectors["configmaps watch"]) > 0 && len(selectors["namespaces watch"]) > 0
	}); err != nil {
		t.Fatal("no watch started")
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	for verb, want := range map[string]string{
		"configmaps list": published, "configmaps watch": published, "namespaces list": "", "namespaces watch": "",
	} {
		for _, got := range selectors[verb] {
			if got != want {
				t.Errorf("%s asked for label selector %q, want %q", verb, got, want)
			}
		}
		if len(selectors[verb]) == 0 {
			t.Errorf("no %s", verb)
		}
	}
}
