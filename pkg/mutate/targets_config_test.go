package mutate_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Targets names the ConfigMaps exactly as resolution mounts them: an aliased default resolves
// through the alias, "default" and "" to the unversioned base, aliases in name order.
func TestTargets(t *testing.T) {
	o := mutate.DefaultOptions()
	lib(&o).DefaultVersion, tmpl(&o).DefaultVersion = "stable", ""
	o.Aliases = map[string]string{"stable": "v2", "legacy": mutate.DefaultVersionName}
	want := []mutate.Target{
		{Flag: "--default-version", Value: "stable", ConfigMaps: []string{"tilt-lib-v2"}, Versioned: true, MountPath: "/apps/tilt-lib"},
		{Flag: "--default-templates-version", ConfigMaps: []string{"tilt-templates"}, MountPath: "/apps/template"},
		{Flag: "--alias", Name: "legacy", Value: mutate.DefaultVersionName, ConfigMaps: []string{"tilt-lib", "tilt-templates"}},
		{Flag: "--alias", Name: "stable", Value: "v2", ConfigMaps: []string{"tilt-lib-v2", "tilt-templates-v2"}, Versioned: true},
	}
	if got := o.Targets(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Targets() =\n%+v\nwant\n%+v", got, want)
	}
	// The same answer resolution gives for a Pod with no pin.
	res := mutate.Mutate(o, mutate.Request{Namespace: "ns", Pod: &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "dev"}}}}})
	if res.Injected[0].ConfigMap != want[0].ConfigMaps[0] || res.Injected[1].ConfigMap != want[1].ConfigMaps[0] {
		t.Fatalf("Mutate mounted %+v, Targets says %v and %v", res.Injected, want[0].ConfigMaps, want[1].ConfigMaps)
	}
}

func seen(names ...string) func(string) bool {
	return func(cm string) bool { return slices.Contains(names, cm) }
}

// TestMissingTargets: one warning per configured default or alias that no known ConfigMap
// satisfies, in Targets order, worded with where they were looked for. `serve` and
// `webhook inject` both warn with it.
func TestMissingTargets(t *testing.T) {
	opts := func(l, tpl string, aliases map[string]string) mutate.Options {
		o := mutate.DefaultOptions()
		lib(&o).DefaultVersion, tmpl(&o).DefaultVersion, o.Aliases = l, tpl, aliases
		return o
	}
	cases := []struct {
		name   string
		o      mutate.Options
		exists func(string) bool
		want   []string // one substring per expected warning, in order
	}{
		{"unversioned defaults exist", opts("", "", nil), seen("tilt-lib", "tilt-templates"), nil},
		{"typo in --default-version", opts("stabel", "", nil), seen("tilt-lib", "tilt-lib-v2", "tilt-templates"),
			[]string{`--default-version "stabel": no ConfigMap "tilt-lib-stabel" in any namespace; until one exists, workspaces get an empty /apps/tilt-lib`}},
		{"typo in --default-templates-version", opts("", "v9", nil), seen("tilt-lib", "tilt-templates"),
			[]string{`--default-templates-version "v9": no ConfigMap "tilt-templates-v9"`}},
		{"default through an alias that exists", opts("stable", "", map[string]string{"stable": "v2"}), seen("tilt-lib-v2", "tilt-templates"), nil},
		{"default through an alias that does not", opts("stable", "", map[string]string{"stable": "v2"}), seen("tilt-lib-v3", "tilt-templates"),
			[]string{`--default-version "stable": no ConfigMap "tilt-lib-v2"`, `--alias stable=v2: neither ConfigMap "tilt-lib-v2" nor "tilt-templates-v2" in any namespace`}},
		{"default named default", opts("default", "default", nil), seen("tilt-lib", "tilt-templates"), nil},
		{"alias for one component only", opts("", "", map[string]string{"edge": "v3"}), seen("tilt-lib", "tilt-templates", "tilt-templates-v3"), nil},
		{"aliases reported in name order", opts("", "", map[string]string{"zeta": "v8", "alpha": "v7"}), seen("tilt-lib", "tilt-templates"),
			[]string{"--alias alpha=v7", "--alias zeta=v8"}},
		// Where serve and `webhook inject` used to differ (inject skipped targets that resolve to
		// the unversioned base): they are checked, since every unpinned workspace mounts the base.
		{"unversioned default missing", opts("", "", nil), seen("tilt-lib"),
			[]string{`--default-templates-version "": no ConfigMap "tilt-templates" in any namespace; until one exists, workspaces get an empty /apps/template`}},
		{"mistyped base name", func() mutate.Options { o := opts("", "", nil); lib(&o).Base = "tilt-lbi"; return o }(), seen("tilt-lib", "tilt-templates"),
			[]string{`--default-version "": no ConfigMap "tilt-lbi"`}},
		{"alias of the unversioned bases, neither published", opts("", "", map[string]string{"latest": "default"}), seen("tilt-lib-v2"),
			[]string{`--default-version ""`, `--default-templates-version ""`, `--alias latest=default: neither ConfigMap "tilt-lib" nor "tilt-templates"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.o.MissingTargets(c.exists, "any namespace")
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
	// A third component makes an alias name three ConfigMaps.
	o := mutate.DefaultOptions()
	o.Components = append(o.Components, testComponents...)
	o.Aliases = map[string]string{"next": "v5"}
	got := o.MissingTargets(seen("tilt-lib", "tilt-templates", "tilt-extras"), "the input")
	want := `--alias next=v5: none of the ConfigMaps "tilt-lib-v5", "tilt-templates-v5", "tilt-extras-v5" in the input (a typo?)`
	if len(got) != 1 || got[0] != want {
		t.Errorf("three components: warnings %q, want [%q]", got, want)
	}
}
