package mutate_test

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Targets names the ConfigMaps exactly as resolution mounts them: an aliased default resolves
// through the alias, "default" and "" to the unversioned base, aliases in name order.
func TestTargets(t *testing.T) {
	o := mutate.DefaultOptions()
	o.Lib.DefaultVersion, o.Templates.DefaultVersion = "stable", ""
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
