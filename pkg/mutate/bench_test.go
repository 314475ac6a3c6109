package mutate_test

import (
	"encoding/json"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// benchPod builds a Coder workspace Pod: the dev container plus sidecars, each with env vars, and
// PVC volumes. The shape is a workspace's; the counts set the size.
func benchPod(sidecars, env, volumes int) *corev1.Pod {
	container := func(name string, token bool) corev1.Container {
		c := corev1.Container{
			Name:    name,
			Image:   "codercom/enterprise-base:ubuntu",
			Command: []string{"sh", "-c", "exec /tmp/coder agent"},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("2Gi")},
			},
			SecurityContext: &corev1.SecurityContext{RunAsUser: ptr.To[int64](1000), AllowPrivilegeEscalation: ptr.To(false)},
		}
		if token {
			c.Env = append(c.Env, corev1.EnvVar{Name: "CODER_AGENT_TOKEN", Value: "00000000-0000-0000-0000-000000000000"})
		}
		for i := range env {
			c.Env = append(c.Env, corev1.EnvVar{Name: fmt.Sprintf("WORKSPACE_SETTING_%03d", i), Value: fmt.Sprintf("value-%03d-of-a-typical-length", i)})
		}
		for i := range volumes {
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: fmt.Sprintf("data-%02d", i), MountPath: fmt.Sprintf("/data/%02d", i)})
		}
		return c
	}
	p := &corev1.Pod{}
	p.GenerateName = "coder-jdoe-myws-6c9d7f8b5d-"
	p.Namespace = "team-a"
	p.Labels = map[string]string{
		"app.kubernetes.io/name":   "coder-workspace",
		"com.coder.resource":       "true",
		"com.coder.workspace.id":   "3f0c1b7e-8a52-4d1e-9d3c-2b6a1f4e7c90",
		"com.coder.workspace.name": "myws",
		"com.coder.user.username":  "jdoe",
	}
	p.Annotations = map[string]string{"com.coder.user.email": "jdoe@example.com"}
	p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1000), FSGroup: ptr.To[int64](1000)}
	p.Spec.Containers = append(p.Spec.Containers, container("dev", true))
	for i := range sidecars {
		p.Spec.Containers = append(p.Spec.Containers, container(fmt.Sprintf("sidecar-%d", i), false))
	}
	for i := range volumes {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: fmt.Sprintf("data-%02d", i), VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: fmt.Sprintf("coder-3f0c1b7e-data-%02d", i)}}})
	}
	return p
}

func BenchmarkMutate(b *testing.B) {
	for _, size := range []struct {
		name                   string
		sidecars, env, volumes int
		minBytes, maxBytes     int
	}{
		{"5KB", 0, 45, 5, 4500, 5500},
		{"75KB", 5, 125, 40, 70000, 80000},
	} {
		pod := benchPod(size.sidecars, size.env, size.volumes)
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
