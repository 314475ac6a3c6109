package mutate_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// fuzzLookups are the ConfigMap worlds a fuzz input picks from (by its lookup byte), so the
// fallback and missing paths of resolution are exercised as well as the everything-exists one.
var fuzzLookups = []mutate.ConfigMapLookup{
	mutate.AllExist{},
	mutate.MapLookup{},
	mutate.MapLookup{"team-a/tilt-lib": "2.1.0", "team-a/tilt-lib-v2": "2.0.1", "team-a/tilt-templates-v3": "3.0.0"},
}

// FuzzMutate feeds arbitrary Pods and annotation values to Mutate and checks what must hold for
// every admission: no panic, the patch applies, names and mount paths stay unique, nothing the Pod
// had is changed, the annotations stay within the API server's limit (checkInvariants), the
// warnings are capped and each ends with its reason code, and a second pass is a no-op.
func FuzzMutate(f *testing.F) {
	seedFromGoldens(f)
	f.Add([]byte(`{}`), "", "", "", "", "", "", uint8(0))
	f.Add([]byte(`null`), "stable", "default", "dev,,dev", "TRUE", "V2", "FALSE", uint8(1))
	f.Add([]byte(`{"spec":{"containers":[{"name":"dev","volumeMounts":[{"name":"x","mountPath":"/apps//tilt-lib/."}]}],`+
		`"volumes":[{"name":"tilt-templates","configMap":{"name":"tilt-templates-v3"}}]}}`),
		"v3", "v3", "", "", "v2", "false", uint8(2))

	f.Fuzz(func(t *testing.T, podJSON []byte, version, templatesVersion, containers, inject, nsVersion, nsAllow string, lookup uint8) {
		o := mutate.DefaultOptions()
		o.Aliases = map[string]string{"stable": "v2", "latest": "default"}
		prefix := o.AnnotationPrefix

		var pod corev1.Pod
		decoded := json.Unmarshal(podJSON, &pod) == nil
		if !decoded {
			pod = corev1.Pod{} // still run: annotation values alone must not break Mutate
		}
		setIf(&pod.Annotations, prefix+mutate.KeyVersion, version)
		setIf(&pod.Annotations, prefix+mutate.KeyTemplatesVersion, templatesVersion)
		setIf(&pod.Annotations, prefix+mutate.KeyContainers, containers)
		setIf(&pod.Annotations, prefix+mutate.KeyInject, inject)
		var nsAnn map[string]string
		setIf(&nsAnn, prefix+mutate.KeyVersion, nsVersion)
		setIf(&nsAnn, prefix+mutate.KeyAllowPodOverride, nsAllow)
		req := mutate.Request{Namespace: "team-a", NamespaceAnnotations: nsAnn, Pod: &pod,
			ConfigMaps: fuzzLookups[int(lookup)%len(fuzzLookups)]}

		orig, err := json.Marshal(&pod)
		if err != nil {
			t.Skipf("pod does not marshal: %v", err) // not an object the API server could send
		}
		res := mutate.Mutate(o, req)
		if after, _ := json.Marshal(&pod); !bytes.Equal(orig, after) {
			t.Fatalf("Mutate modified its input pod")
		}
		checkWarnings(t, res) // at most MaxWarnings+1, each ending with a known reason code
		if !decoded {
			return
		}

		applied, err := applyOps(orig, res.Patch)
		if err != nil {
			t.Fatalf("patch does not apply: %v\npatch: %s\npod: %s", err, mustJSON(t, res.Patch), orig)
		}
		in, out := decodePod(t, orig), decodePod(t, applied)
		checkInvariants(t, o, in, out)
		checkTrace(t, o, req, res, out) // the trace concludes what the Result says

		req.Pod = out
		if again := mutate.Mutate(o, req); len(again.Patch) != 0 {
			t.Fatalf("second pass not empty: %s\npod: %s", mustJSON(t, again.Patch), applied)
		}
	})
}

func setIf(m *map[string]string, k, v string) {
	if v == "" {
		return // leave the map nil where it was: nil maps are a path of their own
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
}

// seedFromGoldens adds every golden case's Pod with its own annotation values as a seed.
func seedFromGoldens(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", podFile))
	if err != nil || len(files) == 0 {
		f.Fatalf("no golden pods to seed from: %v", err)
	}
	prefix := mutate.DefaultOptions().AnnotationPrefix
	type object struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	for i, file := range files {
		y, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		podJSON, err := yaml.YAMLToJSON(y)
		if err != nil {
			f.Fatalf("%s: %v", file, err)
		}
		var meta, ns object
		_ = json.Unmarshal(podJSON, &meta) // a seed that does not decode is still a seed
		if nsYAML, err := os.ReadFile(filepath.Join(filepath.Dir(file), namespaceFile)); err == nil {
			_ = yaml.Unmarshal(nsYAML, &ns)
		}
		pa, na := meta.Metadata.Annotations, ns.Metadata.Annotations
		f.Add(podJSON, pa[prefix+mutate.KeyVersion], pa[prefix+mutate.KeyTemplatesVersion],
			pa[prefix+mutate.KeyContainers], pa[prefix+mutate.KeyInject],
			na[prefix+mutate.KeyVersion], na[prefix+mutate.KeyAllowPodOverride], uint8(i))
	}
}
