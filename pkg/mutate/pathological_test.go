package mutate_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// pathologicalPod is the security review's Pod: n containers (the first "dev") and a containers
// annotation naming names entries, about half of them containers of the Pod, the rest unknown.
// With n=20,000 and names=150,000 its JSON is about 1.39 MiB, under the API server's request limit.
func pathologicalPod(n, names int) *corev1.Pod {
	p := &corev1.Pod{}
	p.Name, p.Namespace = "coder-jdoe-ws", "team-a"
	p.Spec.Containers = make([]corev1.Container, n)
	for i := range p.Spec.Containers {
		p.Spec.Containers[i].Name = fmt.Sprintf("c%d", i)
	}
	p.Spec.Containers[0].Name = "dev"
	var b strings.Builder
	for i := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "c%d", i%(2*n))
	}
	p.Annotations = map[string]string{mutate.DefaultOptions().AnnotationPrefix + mutate.KeyContainers: b.String()}
	return p
}

// conflictingPod has n containers, each carrying CODER_AGENT_TOKEN (so each is a target) and each
// already mounting foreign volumes at both tilt mount paths: every one a mountpath_conflict.
func conflictingPod(n int) *corev1.Pod {
	o := mutate.DefaultOptions()
	p := &corev1.Pod{}
	p.Name, p.Namespace = "coder-jdoe-ws", "team-a"
	p.Spec.Containers = make([]corev1.Container, n)
	for i := range p.Spec.Containers {
		p.Spec.Containers[i] = corev1.Container{
			Name: fmt.Sprintf("c%d", i),
			Env:  []corev1.EnvVar{{Name: "CODER_AGENT_TOKEN", Value: "x"}},
			VolumeMounts: []corev1.VolumeMount{
				{Name: "mine", MountPath: lib(&o).MountPath},
				{Name: "mine", MountPath: tmpl(&o).MountPath},
			},
		}
	}
	p.Spec.Volumes = []corev1.Volume{{Name: "mine"}}
	return p
}

func BenchmarkPathological(b *testing.B) {
	for _, c := range []struct {
		name string
		pod  *corev1.Pod
	}{
		{"containers-annotation-20000x150000", pathologicalPod(20000, 150000)},
		{"mountpath-conflicts-20000", conflictingPod(20000)},
	} {
		raw, err := json.Marshal(c.pod)
		if err != nil {
			b.Fatal(err)
		}
		req := mutate.Request{Namespace: "team-a", Pod: c.pod}
		o := mutate.DefaultOptions()
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				res := mutate.Mutate(o, req)
				if _, err := json.Marshal(res.Patch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
