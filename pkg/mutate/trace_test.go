package mutate_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// checkTrace runs the decision again with a trace and holds the trace to the Result: asking for
// a trace changes nothing, and its conclusion is the Result's status and the record written on
// the Pod (out, the Pod after res's patch).
func checkTrace(t *testing.T, o mutate.Options, req mutate.Request, res mutate.Result, out *corev1.Pod) {
	t.Helper()
	req.Trace = &mutate.Trace{}
	traced := mutate.Mutate(o, req)
	if !reflect.DeepEqual(traced, res) {
		t.Fatalf("a traced decision differs from the untraced one:\n%+v\n%+v", traced, res)
	}
	c := req.Trace.Conclusion
	if c.Status != res.Status {
		t.Fatalf("trace concludes %q, the Result says %q", c.Status, res.Status)
	}
	var rec mutate.Record
	if v, ok := out.Annotations[o.AnnotationPrefix+mutate.KeyInjected]; ok {
		if err := json.Unmarshal([]byte(v), &rec); err != nil {
			t.Fatalf("record: %v", err)
		}
	} else if res.Status == string(mutate.OutcomeInjected) && !tooLarge(res) {
		t.Fatalf("injected without a record")
	}
	carried := 0
	for _, tc := range c.Components {
		rc := rec.Component(tc.Component)
		if !tc.Carried {
			if rc != nil {
				t.Fatalf("trace: %s not carried, but recorded %+v", tc.Component, rc)
			}
			continue
		}
		carried++
		if rc == nil {
			if !tooLarge(res) {
				t.Fatalf("trace: %s carried (%s), but not recorded", tc.Component, tc.ConfigMap)
			}
			continue
		}
		if rc.ConfigMap != tc.ConfigMap || rc.Version != tc.Version || rc.Source != tc.Source {
			t.Fatalf("trace: %s is %s@%s (%s), the record says %+v", tc.Component, tc.ConfigMap, tc.Version, tc.Source, rc)
		}
		if !tookStep(req.Trace, tc.Component, tc.ConfigMap) {
			t.Fatalf("trace: no taken step of %s names %s: %+v", tc.Component, tc.ConfigMap, req.Trace.Steps)
		}
	}
	if (carried > 0) != (c.Status == string(mutate.OutcomeInjected)) {
		t.Fatalf("trace: %d components carried, status %q", carried, c.Status)
	}
	for _, inj := range res.Injected {
		found := false
		for _, tc := range c.Components {
			found = found || tc.Component == inj.Component && tc.Choice == inj.Choice && tc.Carried
		}
		if !found {
			t.Fatalf("Result injects %+v, which the trace does not conclude", inj)
		}
	}
}

// tookStep: the step that placed the component's ConfigMap (a level, a fallback or a rollout) is
// in the trace.
func tookStep(tr *mutate.Trace, component, configMap string) bool {
	for _, s := range tr.Steps {
		if s.Component == component && strings.Contains(s.Detail, configMap) &&
			(s.Kind == mutate.StepLevel || s.Kind == mutate.StepFallback || s.Kind == mutate.StepRollout) {
			return true
		}
	}
	return false
}

func tooLarge(res mutate.Result) bool {
	for _, f := range res.Findings {
		if f.Reason == mutate.ReasonAnnotationsTooLarge {
			return true
		}
	}
	return false
}

// Every golden case, traced: the conclusion is the Result.
func TestTraceConcludesTheResult(t *testing.T) {
	for _, dir := range caseDirs(t) {
		t.Run(dir, func(t *testing.T) {
			gc := loadCase(t, dir)
			res := mutate.Mutate(gc.opts, gc.req)
			applied, err := applyOps(gc.podJSON, res.Patch)
			if err != nil {
				t.Fatal(err)
			}
			checkTrace(t, gc.opts, gc.req, res, decodePod(t, applied))
		})
	}
}

// The steps a platform engineer reads for a pinned, aliased, fallen-back component.
func TestTraceSteps(t *testing.T) {
	o := mutate.DefaultOptions()
	o.Aliases = map[string]string{"stable": "v2"}
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "dev"}, {Name: "side"}}}}
	tr := &mutate.Trace{}
	mutate.Mutate(o, mutate.Request{Namespace: "team-a", Pod: pod, Trace: tr,
		NamespaceAnnotations: map[string]string{o.AnnotationPrefix + mutate.KeyVersion: "stable"},
		ConfigMaps:           mutate.MapLookup{"team-a/tilt-lib": "1.4.0", "team-a/tilt-templates": ""}})
	var got []string
	for _, s := range tr.Steps {
		if s.Component == "" || s.Component == mutate.LibVolume {
			got = append(got, s.Kind+"|"+boolText(s.Taken)+"|"+s.Detail)
		}
	}
	want := []string{
		`override lock|skipped|Pod values allowed (namespace tilt-lib.platform/allow-pod-override unset or "true")`,
		"opt-out|skipped|not opted out",
		"targets|taken|target containers: dev",
		"level|skipped|pod annotation tilt-lib.platform/version: not set",
		"alias|taken|namespace annotation via alias stable=v2: alias stable = v2",
		"configmap|skipped|namespace annotation via alias stable=v2 → tilt-lib-v2: not in namespace team-a, skipped",
		"fallback|taken|server default → tilt-lib: exists in team-a, taken as a fallback",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("steps:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func boolText(b bool) string {
	if b {
		return "taken"
	}
	return "skipped"
}
