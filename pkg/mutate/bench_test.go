package mutate_test

import (
	"encoding/json"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

func BenchmarkMutate(b *testing.B) {
	for _, size := range []struct {
		name               string
		shape              reviewtest.Shape
		minBytes, maxBytes int
	}{
		{"5KB", reviewtest.Shape{Env: 38, Volumes: 4}, 4500, 5500},
		{"75KB", reviewtest.Shape{Sidecars: 5, Env: 125, Volumes: 40}, 70000, 80000},
	} {
		pod := reviewtest.WorkspacePod(size.shape)
		orig, err := json.Marshal(pod)
		if err != nil {
			b.Fatal(err)
		}
		if len(orig) < size.minBytes || len(orig) > size.maxBytes {
			b.Fatalf("%s pod is %d bytes of JSON, want %d..%d", size.name, len(orig), size.minBytes, size.maxBytes)
		}
		o := mutate.DefaultOptions()
		req := mutate.Request{Namespace: pod.Namespace, Pod: pod, ConfigMaps: mutate.MapLookup{
			"team-a/tilt-lib": "2.1.0", "team-a/tilt-templates": "1.4.0"}}
		checkBaselineAgrees(b, o, req, orig)

		b.Run(size.name+"/direct", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(orig)))
			for b.Loop() {
				res := mutate.Mutate(o, req)
				if _, err := json.Marshal(res.Patch); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(size.name+"/baseline-diff", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(orig)))
			for b.Loop() {
				if _, err := json.Marshal(baselineDiff(b, o, req, orig).Patches); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// baselineDiff is the webhook the marshal-and-diff way: decide (the same decision, so only the
// patch construction differs), deep-copy and change the typed Pod, marshal it, diff against the
// request's JSON.
func baselineDiff(b *testing.B, o mutate.Options, req mutate.Request, orig []byte) admission.Response {
	res := mutate.Mutate(o, req)
	mutated := applyPlan(b, o, req.Pod, planFromResult(b, o, res, []string{"dev"}))
	current, err := json.Marshal(mutated)
	if err != nil {
		b.Fatal(err)
	}
	return admission.PatchResponseFromRaw(orig, current)
}

// checkBaselineAgrees makes sure both sub-benchmarks do the same job: their patches must give the
// same Pod, or the comparison means nothing.
func checkBaselineAgrees(b *testing.B, o mutate.Options, req mutate.Request, orig []byte) {
	direct, err := applyOps(orig, mutate.Mutate(o, req).Patch)
	if err != nil {
		b.Fatal(err)
	}
	resp := baselineDiff(b, o, req, orig)
	if !resp.Allowed || len(resp.Patches) == 0 {
		b.Fatalf("baseline response %+v", resp.Result)
	}
	viaDiff, err := applyOps(orig, resp.Patches)
	if err != nil {
		b.Fatal(err)
	}
	if !sameJSON(b, direct, viaDiff) {
		b.Fatalf("direct and baseline patches give different pods")
	}
}
