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

func TestMissingTargets(t *testing.T) {
	opts := func(lib, tpl string, aliases map[string]string) mutate.Options {
		o := mutate.DefaultOptions()
		o.Lib.DefaultVersion, o.Templates.DefaultVersion, o.Aliases = lib, tpl, aliases
		return o
	}
	cases := []struct {
		name string
		o    mutate.Options
		seen map[string]bool
		want []string // one substring per expected warning, in order
	}{
		{"unversioned defaults exist", opts("", "", nil), seen("tilt-lib", "tilt-templates"), nil},
		{"typo in --default-version", opts("stabel", "", nil), seen("tilt-lib", "tilt-lib-v2", "tilt-templates"),
			[]string{`--default-version "stabel": no ConfigMap "tilt-lib-stabel" in any namespace; until one exists, workspaces get an empty /apps/tilt-lib`}},
		{"typo in --default-templates-version", opts("", "v9", nil), seen("tilt-lib", "tilt-templates"),
			[]string{`--default-templates-version "v9": no ConfigMap "tilt-templates-v9"`}},
		{"default through an alias that exists", opts("stable", "", map[string]string{"stable": "v2"}), seen("tilt-lib-v2", "tilt-templates"), nil},
		{"default through an alias that does not", opts("stable", "", map[string]string{"stable": "v2"}), seen("tilt-lib-v3", "tilt-templates"),
			[]string{`--default-version "stable": no ConfigMap "tilt-lib-v2"`, `--alias stable=v2: neither ConfigMap "tilt-lib-v2" nor "tilt-templates-v2"`}},
		{"default named default", opts("default", "default", nil), seen("tilt-lib", "tilt-templates"), nil},
		{"unversioned default missing", opts("", "", nil), seen("tilt-lib"), []string{`--default-templates-version "": no ConfigMap "tilt-templates"`}},
		{"alias for one component only", opts("", "", map[string]string{"edge": "v3"}), seen("tilt-lib", "tilt-templates", "tilt-templates-v3"), nil},
		{"aliases reported in name order", opts("", "", map[string]string{"zeta": "v8", "alpha": "v7"}), seen("tilt-lib", "tilt-templates"),
			[]string{"--alias alpha=v7", "--alias zeta=v8"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := missingTargets(c.o, c.seen)
			if len(got) != len(c.want) {
				t.Fatalf("warnings = %q, want %d", got, len(c.want))
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
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
	o.Lib.DefaultVersion = "stabel"
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
		err := (warnMissingTargets{configMapStore(t, synced, names), o, log}).Start(ctx)
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
