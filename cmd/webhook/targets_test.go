package main

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/lookup"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

func seen(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// missingTargets is what serve logs for the ConfigMap names seen in its store.
func missingTargets(o mutate.Options, seen map[string]bool) []string {
	return o.MissingTargets(func(cm string) bool { return seen[cm] }, "any namespace")
}

// configMapStore is a real ConfigMap store holding the given names (alternately in team-a and
// team-b, plus an unrelated kube-root-ca.crt), synced by its first Replace, or never synced.
func configMapStore(t *testing.T, synced bool, names []string) *lookup.ConfigMapStore {
	t.Helper()
	s := lookup.NewConfigMapStore(lookup.Settings{AnnotationPrefix: "tilt-lib.platform/", Bases: []string{"tilt-lib", "tilt-templates"}, VersionLabel: "version"})
	if !synced {
		return s
	}
	list := []any{&metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt", Namespace: "team-a"}}}
	for i, n := range names {
		list = append(list, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: []string{"team-a", "team-b"}[i%2]}})
	}
	if err := s.Replace(list, "1"); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWarnMissingTargetsLogsAfterSync(t *testing.T) {
	o := mutate.DefaultOptions()
	o.Component(mutate.LibVolume).DefaultVersion = "stabel"
	names := []string{"tilt-lib", "tilt-lib-v2", "tilt-templates"}
	for _, synced := range []bool{true, false} {
		var logged []string
		log := funcr.NewJSON(func(obj string) {
			var line struct{ Msg string }
			if err := json.Unmarshal([]byte(obj), &line); err != nil {
				t.Fatal(err)
			}
			logged = append(logged, line.Msg)
		}, funcr.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		if !synced {
			cancel() // the server stops before the store syncs: Start returns without a word
		}
		err := (warnMissingTargets{configMaps: configMapStore(t, synced, names), options: o, log: log}).Start(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if !synced {
			if logged != nil {
				t.Errorf("before sync: logged %q", logged)
			}
			continue
		}
		want := missingTargets(o, seen(names...))
		if len(logged) != 1 || len(want) != 1 || logged[0] != "warning: "+want[0] {
			t.Errorf("after sync: logged %q, want %q", logged, want)
		}
	}
	if !reflect.DeepEqual(missingTargets(o, seen("tilt-lib-stabel", "tilt-templates")), []string(nil)) {
		t.Error("a present target still warned")
	}
}

// With --configmap-selector the warning says where it looked: after turning the selector on, an
// unmarked default (the store never sees it) is the likelier cause than a typo.
func TestWarnMissingTargetsNamesTheSelector(t *testing.T) {
	o := mutate.DefaultOptions()
	var logged []string
	log := funcr.NewJSON(func(obj string) {
		var line struct{ Msg string }
		if err := json.Unmarshal([]byte(obj), &line); err != nil {
			t.Fatal(err)
		}
		logged = append(logged, line.Msg)
	}, funcr.Options{})
	const sel = "tilt-lib.platform/published=true"
	w := warnMissingTargets{configMaps: configMapStore(t, true, nil), options: o, selector: sel, log: log}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Neither default is in the (filtered) store: one warning each, both naming the selector.
	if len(logged) != 2 {
		t.Fatalf("logged %q, want two warnings", logged)
	}
	for _, l := range logged {
		if !strings.Contains(l, `any namespace among the ConfigMaps matching --configmap-selector "`+sel+`"`) {
			t.Errorf("warning %q does not name the selector", l)
		}
	}
}
