package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

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

// fakeCache is a synced (or never-synced) cache holding ConfigMaps of the given names.
type fakeCache struct {
	synced bool
	names  []string
	lists  int
}

func (f *fakeCache) WaitForCacheSync(context.Context) bool { return f.synced }

func (f *fakeCache) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	f.lists++
	l := list.(*metav1.PartialObjectMetadataList)
	if kind := l.GroupVersionKind().Kind; kind != "ConfigMapList" {
		return fmt.Errorf("listed %s, want ConfigMapList", kind)
	}
	for i, n := range f.names {
		l.Items = append(l.Items, metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: []string{"team-a", "team-b"}[i%2]}})
	}
	return nil
}

func TestWarnMissingTargetsLogsAfterSync(t *testing.T) {
	o := mutate.DefaultOptions()
	o.Lib.DefaultVersion = "stabel"
	for _, synced := range []bool{true, false} {
		var logged []string
		log := funcr.NewJSON(func(obj string) {
			var line struct{ Msg string }
			if err := json.Unmarshal([]byte(obj), &line); err != nil {
				t.Fatal(err)
			}
			logged = append(logged, line.Msg)
		}, funcr.Options{})
		c := &fakeCache{synced: synced, names: []string{"tilt-lib", "tilt-lib-v2", "tilt-templates"}}
		if err := (warnMissingTargets{c, o, log}).Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !synced {
			if c.lists != 0 || logged != nil {
				t.Errorf("before sync: %d lists, logged %q", c.lists, logged)
			}
			continue
		}
		want := missingTargets(o, seen(c.names...))
		if c.lists != 1 || len(logged) != 1 || len(want) != 1 || logged[0] != "warning: "+want[0] {
			t.Errorf("after sync: %d lists, logged %q, want %q", c.lists, logged, want)
		}
	}
	if !reflect.DeepEqual(missingTargets(o, seen("tilt-lib-stabel", "tilt-templates")), []string(nil)) {
		t.Error("a present target still warned")
	}
}
