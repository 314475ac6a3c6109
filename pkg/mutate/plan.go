package mutate

import (
	"path"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// componentPlan is what Mutate does with one component: which ConfigMap, which target containers
// get a new mount, whether the volume is new or an earlier injection's to rewrite, and which
// containers carry it afterwards. The row says what the component is (pl.Base is its base name),
// the Choice what resolution picked (pl.ConfigMap is the chosen ConfigMap).
type componentPlan struct {
	Component
	Choice
	carriers  []int // target containers that mount the component after the patch
	newMounts []int // target containers that get a new mount
	newVolume bool
	// rewrite: the Pod's volume at index volume is ours (ours.go) but names another ConfigMap;
	// the patch points it at pl.ConfigMap.
	rewrite bool
	volume  int
}

// carried reports whether the component ends up mounted anywhere, i.e. is recorded as injected.
func (p componentPlan) carried() bool { return len(p.carriers) > 0 }

// added reports whether the patch adds anything of this component.
func (p componentPlan) added() bool { return len(p.newMounts) > 0 || p.newVolume || p.rewrite }

// planComponent decides one component for the target containers idx.
//
//	no volume of the component's name:                 added
//	volume of that name with the chosen ConfigMap:     kept
//	ours (ours.go), naming another ConfigMap:          rewritten to the chosen one
//	any other volume of that name:                     component skipped (volume_conflict)
//	target already mounts another volume at the path: that container skipped (mountpath_conflict,
//	                                                  one finding per component however many)
func planComponent(o Options, c Component, key string, r Request, lookup ConfigMapLookup, forbidden bool, idx []int, fs *findings) componentPlan {
	pl := componentPlan{Component: c, Choice: resolve(o, c, key, r, lookup, forbidden, fs)}
	pod := r.Pod
	pl.volume = findVolume(pod.Spec.Volumes, c.Name)
	switch {
	case pl.volume < 0:
		pl.newVolume = true
	case sameConfigMap(&pod.Spec.Volumes[pl.volume], pl.ConfigMap):
	case ownVolume(o, c, &pod.Spec.Volumes[pl.volume], pod.Annotations):
		pl.rewrite = true
	default:
		fs.add(ReasonVolumeConflict, c.Name, "volume %s already exists with a different source; %s not injected", quote(c.Name), c.Name)
		if r.Trace != nil {
			r.Trace.add(c.Name, StepConflict, true, "volume %s is the Pod's own (not ours): %s not injected", c.Name, c.Name)
		}
		return componentPlan{Component: c}
	}
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
		if r.Trace != nil {
			r.Trace.add(c.Name, StepConflict, true, "container %s already mounts volume %s at %s%s", conflictIn, conflict.Name, c.MountPath, more)
		}
	}
	if !pl.carried() {
		// A volume no container mounts would only confuse; one no container mounts at our path is
		// left as the Pod brought it.
		pl.newVolume, pl.rewrite = false, false
	}
	return pl
}

// findVolume returns the index of the volume called name, -1 when there is none.
func findVolume(vs []corev1.Volume, name string) int {
	for i := range vs {
		if vs[i].Name == name {
			return i
		}
	}
	return -1
}

func sameConfigMap(v *corev1.Volume, configMap string) bool {
	return v.ConfigMap != nil && v.ConfigMap.Name == configMap
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
