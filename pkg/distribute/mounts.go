package distribute

import corev1 "k8s.io/api/core/v1"

// CountMounts counts, per ConfigMap name, the live Pods (neither Succeeded nor Failed) that mount
// it, directly or through a projected volume. The kubelet of a live Pod needs the ConfigMap to
// (re)start its containers, so a copy counted here is never deleted.
func CountMounts(pods []corev1.Pod) map[string]int {
	out := map[string]int{}
	for i := range pods {
		p := &pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		names := map[string]bool{}
		for _, v := range p.Spec.Volumes {
			if v.ConfigMap != nil {
				names[v.ConfigMap.Name] = true
			}
			if v.Projected != nil {
				for _, src := range v.Projected.Sources {
					if src.ConfigMap != nil {
						names[src.ConfigMap.Name] = true
					}
				}
			}
		}
		for n := range names {
			out[n]++
		}
	}
	return out
}
