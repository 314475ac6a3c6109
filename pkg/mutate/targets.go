package mutate

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// targets returns the indexes of the containers to mount into, in ascending order.
//
//	containers annotation (pod) > Options.Containers present in the pod >
//	containers with env CODER_AGENT_TOKEN > the first container. Init containers never.
//
// Only the first MaxContainers containers are considered, and a containers annotation beyond
// MaxContainersAnnotationBytes or MaxContainersAnnotationNames is ignored: each name is looked up
// once in a map, so the work is linear in the Pod's size.
func targets(o Options, r Request, fs *findings) []int {
	cs := r.Pod.Spec.Containers
	if len(cs) == 0 {
		fs.add(ReasonNoTargetContainer, "", "the pod has no containers; nothing injected")
		return nil
	}
	if len(cs) > MaxContainers {
		fs.add(ReasonTooManyContainers, "", "the pod has %d containers; only the first %d are considered for injection",
			len(cs), MaxContainers)
		cs = cs[:MaxContainers]
	}
	key := o.AnnotationPrefix + KeyContainers
	if val, ok := nonEmpty(r.Pod.Annotations, key); ok {
		if n := strings.Count(val, ",") + 1; len(val) > MaxContainersAnnotationBytes || n > MaxContainersAnnotationNames {
			fs.add(ReasonInvalidAnnotation, "", "%s on the pod has %d bytes and %d names, more than the %d bytes or %d names allowed; it was ignored",
				key, len(val), n, MaxContainersAnnotationBytes, MaxContainersAnnotationNames)
		} else {
			return named(cs, key, val, fs)
		}
	}
	var idx []int
	for i, c := range cs {
		for _, name := range o.Containers {
			if c.Name == name {
				idx = append(idx, i)
				break
			}
		}
	}
	if len(idx) > 0 {
		return idx
	}
	for i, c := range cs {
		for _, e := range c.Env {
			if e.Name == "CODER_AGENT_TOKEN" {
				idx = append(idx, i)
				break
			}
		}
	}
	if len(idx) > 0 {
		return idx
	}
	return []int{0}
}

// named resolves the containers annotation val against cs (at most MaxContainers of them).
func named(cs []corev1.Container, key, val string, fs *findings) []int {
	byName := make(map[string]int, len(cs))
	for i := len(cs) - 1; i >= 0; i-- { // the first of duplicate names wins
		byName[cs[i].Name] = i
	}
	chosen := make([]bool, len(cs))
	var unknown []string
	for _, name := range strings.Split(val, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if i, ok := byName[name]; ok {
			chosen[i] = true
		} else {
			unknown = append(unknown, name)
		}
	}
	var idx []int
	for i, ok := range chosen {
		if ok {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		fs.add(ReasonNoTargetContainer, "", "%s %s names no container of this pod; nothing injected", key, quote(val))
		return nil
	}
	if len(unknown) > 0 {
		// The named containers that exist are still injected.
		fs.add(ReasonUnknownContainer, "", "%s names %d container(s) the pod does not have: %s",
			key, len(unknown), quote(strings.Join(unknown, ",")))
	}
	return idx
}
