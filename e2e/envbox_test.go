//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/yaml"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// TestEnvboxOfficialTemplates (issue 20): the Pods of both official envbox templates
// (examples/envbox, with the label the README says to add), created through the real API server,
// get both mounts in "dev" and both read-only entries appended to its CODER_MOUNTS, the record
// says envbox; `webhook inject` on the same manifest prints the same Pod spec and record.
func TestEnvboxOfficialTemplates(t *testing.T) {
	const wantMounts = "/home/coder:/home/coder,/apps/tilt-lib:/apps/tilt-lib:ro,/apps/template:/apps/template:ro"
	for _, file := range []string{"coder-envbox.yaml", "kubernetes-envbox.yaml"} {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "examples", "envbox", file))
			if err != nil {
				t.Fatal(err)
			}
			var template corev1.Pod
			if err := yaml.UnmarshalStrict(b, &template); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			ns := namespace(t, "envbox", nil, "tilt-lib", "tilt-templates")
			settle(t, ns, libDefault, templatesDefault)
			before := scrape(t)

			pod, warnings := createPod(t, ns, template.DeepCopy())
			assertNoWarnings(t, warnings)
			if got := pod.Annotations[harness.KeyStatus]; got != "injected" {
				t.Errorf("%s = %q, want injected", harness.KeyStatus, got)
			}
			wantTilt := []string{"tilt-lib=/apps/tilt-lib=tilt-lib", "tilt-templates=/apps/template=tilt-templates"}
			if got := envboxTiltMounts(pod); !slices.Equal(got, wantTilt) {
				t.Errorf("dev mounts %q, want %q", got, wantTilt)
			}
			if got := coderMounts(pod); !slices.Equal(got, []string{wantMounts}) {
				t.Errorf("CODER_MOUNTS of dev = %q, want [%q]", got, wantMounts)
			}
			var rec mutate.Record
			if err := rec.UnmarshalJSON([]byte(pod.Annotations[harness.KeyInjected])); err != nil || !rec.Envbox {
				t.Errorf("injected record %s (%v) does not say envbox", pod.Annotations[harness.KeyInjected], err)
			}
			expectDelta(t, before, injected(libDefault, templatesDefault, "none").Add(harness.EnvboxMounts("added"), 1))

			rendered := renderOffline(t, ns, &template)
			if got := coderMounts(rendered); !slices.Equal(got, []string{wantMounts}) {
				t.Errorf("webhook inject: CODER_MOUNTS of dev = %q, want [%q]", got, wantMounts)
			}
			// Offline, inject knows no ConfigMap's version label (no --configmaps-file), and the API
			// server defaults fields (defaultMode, imagePullPolicy, …): compare what the webhook
			// decides and writes.
			var offline mutate.Record
			if err := offline.UnmarshalJSON([]byte(rendered.Annotations[harness.KeyInjected])); err != nil {
				t.Fatalf("webhook inject's record: %v", err)
			}
			if r, s := decided(offline), decided(rec); r != s {
				t.Errorf("webhook inject records %s, the API server stored %s", r, s)
			}
			if r, s := envboxTiltMounts(rendered), envboxTiltMounts(pod); !slices.Equal(r, s) {
				t.Errorf("webhook inject mounts %q, the API server stored %q", r, s)
			}
			if !equality.Semantic.DeepEqual(rendered.Spec.Containers[0].Env, pod.Spec.Containers[0].Env) {
				t.Errorf("webhook inject and the API server differ in dev's env:\ninject: %+v\nserver: %+v", rendered.Spec.Containers[0].Env, pod.Spec.Containers[0].Env)
			}
		})
	}
}

// envboxTiltMounts lists dev's mounts of our volumes as volume=path=ConfigMap.
func envboxTiltMounts(pod *corev1.Pod) []string {
	var out []string
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		for _, v := range pod.Spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil && (m.Name == mutate.LibVolume || m.Name == mutate.TemplatesVolume) {
				out = append(out, m.Name+"="+m.MountPath+"="+v.ConfigMap.Name)
			}
		}
	}
	return out
}

// decided is a record without the ConfigMaps' version labels.
func decided(r mutate.Record) string {
	for i := range r.Components {
		r.Components[i].Version = ""
	}
	b, _ := r.MarshalJSON()
	return string(b)
}

// coderMounts returns the values of dev's CODER_MOUNTS vars.
func coderMounts(pod *corev1.Pod) []string {
	var vs []string
	for _, c := range pod.Spec.Containers {
		if c.Name != "dev" {
			continue
		}
		for _, e := range c.Env {
			if e.Name == mutate.CoderMountsEnv {
				vs = append(vs, e.Value)
			}
		}
	}
	return vs
}
