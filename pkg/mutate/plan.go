package mutate

import (
	"path"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// componentPlan is what Mutate does with one component: which ConfigMap, which target containers
// get a new mount, whether the volume is new, and which containers carry it afterwards. The row
// says what the component is (pl.Base is its base name), the Choice what resolution picked
// (pl.ConfigMap is the chosen ConfigMap).
type componentPlan struct {
	Component
	Choice
	carriers  []int // target containers that mount the component after the patch
	newMounts []int // target containers that get a new mount
	newVolume bool
}

// carried reports whether the component ends up mounted anywhere, i.e. is recorded as injected.
func (p componentPlan) carried() bool { return len(p.carriers) > 0 }

// added reports whether the patch adds anything of this component.
func (p componentPlan) added() bool { return len(p.newMounts) > 0 || p.newVolume }

// planComponent decides one component for the target containers idx.
//
//	volume of the same name with another source:  component skipped (volume_conflict)
//	target already mounts another volume at the path: that container skipped (mountpath_conflict,
//	                                                  one finding per component however many)
func planComponent(o Options, c Component, r Request, lookup ConfigMapLookup, forbidden bool, idx []int, fs *findings) componentPlan {
	pl := componentPlan{Component: c, Choice: resolve(o, c, r, lookup, forbidden, fs)}
	pod := r.Pod
	v := findVolume(pod.Spec.Volumes, c.Name)
	if v != nil && (v.ConfigMap == nil || v.ConfigMap.Name != pl.ConfigMap) {
		fs.add(ReasonVolumeConflict, c.Name, "volume %s already exists with a different source; %s not injected", quote(c.Name), c.Name)
		return componentPlan{Component: c}
	}
	pl.newVolume = v == nil
	var conflict *corev1.VolumeMount
	conflictIn, conflicts := "", 0
	for _, i := range idx {
		switch m := findMount(pod.Spec.Containers[i].VolumeMounts, c.MountPath); {
		case m == nil:
			pl.newMounts = append(pl.newMounts, i)
		case m.Name != c.Name:
			if conflicts++; conflict == nil {
				conflict, conflictIn = m, pod.Spec.Containers[i].Name
			}
			continue
		}
		pl.carriers = append(pl.carriers, i)
	}
	if conflicts > 0 {
		more := ""
		if conflicts > 1 {
			more = ", as do " + strconv.Itoa(conflicts-1) + " more target containers"
		}
		fs.add(ReasonMountPathConflict, c.Name, "container %s already mounts volume %s at %s%s; %s not mounted there",
			quote(conflictIn), quote(conflict.Name), c.MountPath, more, c.Name)
	}
	if !pl.carried() {
		pl.newVolume = false // a volume no container mounts would only confuse
	}
	return pl
}

func findVolume(vs []corev1.Volume, name string) *corev1.Volume {
	for i := range vs {
		if vs[i].Name == name {
			return &vs[i]
		}
	}
	return nil
}

// findMount returns the mount at mountPath; "/apps/tilt-lib/" and "/apps/tilt-lib" are the same
// directory, so paths compare cleaned.
func findMount(ms []corev1.VolumeMount, mountPath string) *corev1.VolumeMount {
	for i := range ms {
		if ms[i].MountPath == mountPath || path.Clean(ms[i].MountPath) == mountPath {
			return &ms[i]
		}
	}
	return nil
}
