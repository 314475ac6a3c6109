package inject

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// goldenCases are the directories under testdata, each with the checks that say what its golden
// files must show (so a careless -update cannot bless a regression).
var goldenCases = map[string]func(*testing.T, golden){
	"pod-yaml": func(t *testing.T, g golden) {
		pod := decodePod(t, only(t, g.yaml))
		wantVolume(t, pod.Spec, "tilt-lib", "tilt-lib")
		wantVolume(t, pod.Spec, "tilt-templates", "tilt-templates")
		wantMounts(t, pod.Spec.Containers[0], "/home/coder", "/apps/tilt-lib", "/apps/template")
		if s := pod.Annotations["tilt-lib.platform/status"]; s != "injected" {
			t.Errorf("status = %q", s)
		}
		wantPaths(t, g.patch, "/spec/volumes/-", "/spec/containers/0/volumeMounts/-")
		wantNoWarnings(t, g)
		wantSummary(t, g, "pod/coder-alice-ws injected (tilt-lib, tilt-templates)")
	},
	"envbox": func(t *testing.T, g golden) {
		pod := decodePod(t, only(t, g.yaml))
		dev := pod.Spec.Containers[0]
		wantMounts(t, dev, "/home/coder", "/var/lib/sysbox", "/var/lib/coder/docker", "/var/lib/coder/containers",
			"/usr/src", "/lib/modules", "/apps/tilt-lib", "/apps/template")
		var mounts []string
		for _, e := range dev.Env {
			if e.Name == "CODER_MOUNTS" {
				mounts = append(mounts, e.Value)
			}
		}
		if want := "/home/coder:/home/coder,/apps/tilt-lib:/apps/tilt-lib:ro,/apps/template:/apps/template:ro"; len(mounts) != 1 || mounts[0] != want {
			t.Errorf("CODER_MOUNTS = %q, want [%q]", mounts, want)
		}
		if rec := pod.Annotations["tilt-lib.platform/injected"]; !strings.Contains(rec, `"envbox":true`) {
			t.Errorf("injected record %s does not say envbox", rec)
		}
		wantPaths(t, g.patch, "/spec/volumes/-", "/spec/containers/0/volumeMounts/-", "/spec/containers/0/env/5/value")
		wantNoWarnings(t, g)
		wantSummary(t, g, "pod/coder-asmith-envbox injected (tilt-lib, tilt-templates), envbox CODER_MOUNTS extended")
	},
	"pod-json": func(t *testing.T, g golden) {
		if !strings.HasPrefix(g.yaml, "apiVersion: v1\n") {
			t.Errorf("JSON input not printed as YAML:\n%s", g.yaml)
		}
		pod := decodePod(t, only(t, g.yaml))
		wantVolume(t, pod.Spec, "tilt-lib", "tilt-lib-v2")
		wantMounts(t, pod.Spec.Containers[0])
		wantMounts(t, pod.Spec.Containers[1], "/apps/tilt-lib", "/apps/template")
		if cpu := pod.Spec.Containers[1].Resources.Limits.Cpu().String(); cpu != "2" {
			t.Errorf("limits.cpu = %s, want 2 (fields kept)", cpu)
		}
		wantPaths(t, g.patch, "/spec/volumes", "/spec/containers/1/volumeMounts")
	},
	"multi-doc": func(t *testing.T, g golden) {
		in := splitYAML(t, string(inputFile(t, "testdata/multi-doc")))
		out := splitYAML(t, g.yaml)
		if len(out) != 3 {
			t.Fatalf("got %d documents, want 3", len(out))
		}
		for _, i := range []int{0, 2} {
			if out[i] != in[i] {
				t.Errorf("document %d not passed through byte for byte:\n%q\nwant\n%q", i+1, out[i], in[i])
			}
		}
		wantVolume(t, decodePod(t, out[1]).Spec, "tilt-lib", "tilt-lib")
		if n := len(lines(g.patch)); n != 1 {
			t.Errorf("-o patch printed %d lines, want 1 (the Pod)", n)
		}
	},
	"deployment": func(t *testing.T, g golden) {
		wantPrefix(t, g.patch, "/spec/template/")
		var d struct {
			Spec struct{ Template corev1.PodTemplateSpec }
		}
		decode(t, only(t, g.yaml), &d)
		spec := d.Spec.Template.Spec
		wantVolume(t, spec, "tilt-templates", "tilt-templates-v3")
		wantMounts(t, spec.Containers[0], "/apps/tilt-lib", "/apps/template")
		wantMounts(t, spec.InitContainers[0])
	},
	"cronjob": func(t *testing.T, g golden) {
		wantPrefix(t, g.patch, "/spec/jobTemplate/spec/template/")
		if ops := patchOps(t, lines(g.patch)[0]); ops[0].Path != "/spec/jobTemplate/spec/template/metadata" {
			t.Errorf("first op %+v, want the template's missing metadata added", ops[0])
		}
		var cj batchv1.CronJob
		decode(t, only(t, g.yaml), &cj)
		spec := cj.Spec.JobTemplate.Spec.Template.Spec
		wantVolume(t, spec, "tilt-lib", "tilt-lib")
		wantMounts(t, spec.Containers[0], "/apps/tilt-lib", "/apps/template")
	},
	"list": func(t *testing.T, g golden) {
		var l struct {
			Kind  string
			Items []json.RawMessage
		}
		decode(t, only(t, g.yaml), &l)
		if l.Kind != "List" || len(l.Items) != 3 {
			t.Fatalf("got kind %q with %d items, want the List kept", l.Kind, len(l.Items))
		}
		wantVolume(t, decodePod(t, string(l.Items[0])).Spec, "tilt-lib", "tilt-lib")
		ls := lines(g.patch)
		if len(ls) != 2 {
			t.Fatalf("-o patch printed %d lines, want 2 (Pod and StatefulSet)", len(ls))
		}
		// Each patch line names its object, so several can be told apart.
		for i, want := range []printedPatch{{APIVersion: "v1", Kind: "Pod", Namespace: "coder", Name: "coder-dave-ws"},
			{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "coder", Name: "workspaces"}} {
			got := parsePatchLine(t, ls[i])
			got.Patch = nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("patch line %d names %+v, want %+v", i+1, got, want)
			}
		}
		wantWarning(t, g, "Warning: pod/coder-dave-ws: tilt-lib-injector: ", "not a valid version")
		// The List's own ConfigMap "unrelated" says nothing about the platform's ConfigMaps in
		// namespace coder: they are still assumed to exist.
		if strings.Contains(g.warnings, "not found in namespace") {
			t.Errorf("an unrelated ConfigMap in the input made tilt-lib missing:\n%s", g.warnings)
		}
	},
	"namespace-pin": func(t *testing.T, g golden) {
		pod := decodePod(t, only(t, g.yaml))
		wantVolume(t, pod.Spec, "tilt-lib", "tilt-lib-v2")
		wantVolume(t, pod.Spec, "tilt-templates", "tilt-templates")
		if v := pod.Labels["tilt-lib.platform/version"]; v != "v2" {
			t.Errorf("version label = %q, want v2", v)
		}
		if lib := injected(t, pod).Lib; lib.Source != "namespace" {
			t.Errorf("source = %q, want namespace", lib.Source)
		}
		wantNoWarnings(t, g)
	},
	// The Namespace file describes team-b, the Pod is in team-a: the cluster would not apply
	// team-b's annotations to it, so neither does inject; it says that team-a is unknown.
	"namespace-mismatch": func(t *testing.T, g golden) {
		pod := decodePod(t, only(t, g.yaml))
		wantVolume(t, pod.Spec, "tilt-lib", "tilt-lib")
		wantVolume(t, pod.Spec, "tilt-templates", "tilt-templates")
		if src := injected(t, pod).Lib.Source; src != "default" {
			t.Errorf("source = %q, want default", src)
		}
		wantWarning(t, g, "Warning: tilt-lib-injector: ", `namespace "team-a"`, "taken as none", "(reason: namespace_unknown)")
	},
	"configmaps-fallback": func(t *testing.T, g golden) {
		pod := decodePod(t, only(t, g.yaml))
		wantVolume(t, pod.Spec, "tilt-lib", "tilt-lib")
		rec := injected(t, pod)
		if rec.Lib.Version != "1.4.0" || rec.Lib.Source != "fallback" {
			t.Errorf("tilt-lib = %+v, want version 1.4.0 from the fallback", rec.Lib)
		}
		if rec.Templates.ConfigMap != "tilt-templates" || rec.Templates.Version != "" {
			t.Errorf("tilt-templates = %+v, want the missing tilt-templates, version unknown", rec.Templates)
		}
		wantWarning(t, g, "Warning: tilt-lib-injector: ", `ConfigMap "tilt-lib-v3"`, "not found", `mounted "tilt-lib"`)
		wantWarning(t, g, "Warning: tilt-lib-injector: ", `ConfigMap "tilt-templates"`, "not found", "optional")
	},
	"configmaps-namespaced": func(t *testing.T, g golden) {
		docs := splitYAML(t, g.yaml)
		a, b := injected(t, decodePod(t, docs[0])), injected(t, decodePod(t, docs[1]))
		if a.Lib.ConfigMap != "tilt-lib-v2" || a.Lib.Version != "2.0.1" || a.Lib.Source != "pod" {
			t.Errorf("team-a tilt-lib = %+v, want tilt-lib-v2 2.0.1 from the pod", a.Lib)
		}
		if a.Templates.ConfigMap != "tilt-templates" || a.Templates.Version != "" {
			t.Errorf("team-a tilt-templates = %+v, want tilt-templates with no version label", a.Templates)
		}
		if b.Lib.ConfigMap != "tilt-lib" || b.Lib.Version != "1.4.0" || b.Lib.Source != "fallback" {
			t.Errorf("team-b tilt-lib = %+v, want the fallback tilt-lib 1.4.0", b.Lib)
		}
		wantWarning(t, g, "Warning: pod/coder-ivan-ws: tilt-lib-injector: ", `"tilt-lib-v2"`, `"team-b"`)
		if strings.Contains(g.warnings, "Warning: pod/coder-heidi-ws") {
			t.Errorf("warning about the team-a Pod, whose ConfigMap exists:\n%s", g.warnings)
		}
	},
	"edge-cases": func(t *testing.T, g golden) {
		in := splitYAML(t, string(inputFile(t, "testdata/edge-cases")))
		out := splitYAML(t, g.yaml)
		if len(out) != 4 {
			t.Fatalf("got %d documents, want 4", len(out))
		}
		if s := decodePod(t, out[0]).Annotations["tilt-lib.platform/status"]; s != "injected" {
			t.Errorf("Pod without metadata: status = %q", s)
		}
		for _, i := range []int{1, 3} {
			if out[i] != in[i] {
				t.Errorf("document %d not passed through byte for byte:\n%s", i+1, out[i])
			}
		}
		skipped := decodePod(t, out[2])
		if s := skipped.Annotations["tilt-lib.platform/status"]; s != "skipped:no_target_container" || len(skipped.Spec.Volumes) > 0 {
			t.Errorf("Pod without target container: status %q, volumes %v", s, skipped.Spec.Volumes)
		}
		ls := lines(g.patch)
		if len(ls) != 3 || string(patchOf(t, ls[1])) != "[]" {
			t.Fatalf("-o patch = %q, want 3 lines, [] for the Deployment", ls)
		}
		if ops := patchOps(t, ls[0]); ops[0].Path != "/metadata" {
			t.Errorf("first op %+v, want the missing metadata added", ops[0])
		}
		wantWarning(t, g, "Warning: deployment/no-template: tilt-lib-injector: ", "no pod template", "(reason: no_pod_template)")
		wantWarning(t, g, "Warning: pod/coder-judy-: tilt-lib-injector: ", `"nope"`, "nothing injected")
		wantSummary(t, g, "deployment/no-template skipped (no pod template)", "pod/coder-judy- skipped (no_target_container)",
			"replicaset/not-apps skipped (not a workload)")
	},
}

func TestGolden(t *testing.T) {
	names := make([]string, 0, len(goldenCases))
	for name := range goldenCases {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			goldenCases[name](t, runGolden(t, name))
		})
	}
}
