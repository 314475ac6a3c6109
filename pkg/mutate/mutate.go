package mutate

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"

	"gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// Result is everything Mutate decided about one Pod.
type Result struct {
	// Patch is the JSON patch; empty when the Pod already carries everything.
	Patch []jsonpatch.Operation
	// Status is the value of the status annotation: "injected" or "skipped:<reason>".
	Status string
	// Outcome is "injected" when this patch adds at least one component, else "skipped".
	Outcome Outcome
	// Reason is the one reason that best explains Outcome (metric label): the skip reason, the
	// first noteworthy finding of an injection, already_injected, or none.
	Reason Reason
	// Injected lists the components this patch newly mounts (for the injections metric), keyed by
	// volume name, in component order.
	Injected []Injection
	// Findings are every reason found, in the order found; Warnings are their messages.
	Findings []Finding
	Warnings []string
}

// Injection is one component this patch adds.
type Injection struct {
	Component string
	Choice
}

// record is the JSON stored in the injected annotation.
type record struct {
	Lib        *recordComponent `json:"tilt-lib,omitempty"`
	Templates  *recordComponent `json:"tilt-templates,omitempty"`
	Containers []string         `json:"containers"`
}

type recordComponent struct {
	ConfigMap string `json:"configMap"`
	Version   string `json:"version"`
	Source    Source `json:"source"`
}

// WarningPrefix starts every warning so kubectl users can tell who is speaking.
const WarningPrefix = "tilt-lib-injector: "

// Mutate decides what the Pod in r gets and returns the patch. It never fails: every problem with
// the Pod or its annotations becomes a Finding, and the Pod is admitted.
func Mutate(o Options, r Request) Result {
	lookup := r.ConfigMaps
	if lookup == nil {
		lookup = AllExist{}
	}
	pod := r.Pod
	if pod == nil {
		pod = &corev1.Pod{}
		r.Pod = pod
	}
	var res Result
	var p patch

	var idx []int
	out, f := optedOut(o, r)
	res.Findings = append(res.Findings, f...)
	if !out {
		idx, f = targets(o, r)
		res.Findings = append(res.Findings, f...)
	}

	mounted := make([]bool, len(pod.Spec.Containers)) // container carries at least one component
	newMounts := make([][]corev1.VolumeMount, len(pod.Spec.Containers))
	var newVolumes []corev1.Volume
	var rec record
	labels := map[string]string{}
	for _, c := range o.components() {
		if len(idx) == 0 {
			break
		}
		choice, f := resolve(o, c, r, lookup)
		res.Findings = append(res.Findings, f...)

		volumePresent := false
		if v := findVolume(pod.Spec.Volumes, c.name); v != nil {
			if v.ConfigMap == nil || v.ConfigMap.Name != choice.ConfigMap {
				res.Findings = append(res.Findings, Finding{ReasonVolumeConflict, c.name, fmt.Sprintf(
					"volume %q already exists with a different source; %s not injected", c.name, c.name)})
				continue
			}
			volumePresent = true
		}
		carried, added := false, false
		for _, i := range idx {
			switch m := findMount(pod.Spec.Containers[i].VolumeMounts, c.MountPath); {
			case m == nil:
				newMounts[i] = append(newMounts[i], corev1.VolumeMount{Name: c.name, MountPath: c.MountPath, ReadOnly: true})
				added = true
			case m.Name != c.name:
				res.Findings = append(res.Findings, Finding{ReasonMountPathConflict, c.name, fmt.Sprintf(
					"container %q already mounts volume %q at %s; %s not mounted there",
					pod.Spec.Containers[i].Name, m.Name, c.MountPath, c.name)})
				continue
			}
			carried = true
			mounted[i] = true
		}
		if !carried {
			continue
		}
		if !volumePresent {
			newVolumes = append(newVolumes, corev1.Volume{Name: c.name, VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: choice.ConfigMap},
					Optional:             ptr.To(true),
				}}})
			added = true
		}
		if added {
			res.Injected = append(res.Injected, Injection{Component: c.name, Choice: choice})
		}
		rc := &recordComponent{ConfigMap: choice.ConfigMap, Version: choice.Version, Source: choice.Source}
		if c.name == LibVolume {
			rec.Lib = rc
		} else {
			rec.Templates = rc
		}
		labels[o.AnnotationPrefix+c.versionKey] = choice.Label
	}

	appendAll(&p, "/spec/volumes", len(pod.Spec.Volumes), newVolumes)
	for i, ms := range newMounts {
		appendAll(&p, containerPath(i), len(pod.Spec.Containers[i].VolumeMounts), ms)
	}

	statusKey, injectedKey := o.AnnotationPrefix+KeyStatus, o.AnnotationPrefix+KeyInjected
	annotations := map[string]string{}
	if rec.Lib != nil || rec.Templates != nil {
		res.Status = string(OutcomeInjected)
		rec.Containers = []string{}
		for i, ok := range mounted {
			if ok {
				rec.Containers = append(rec.Containers, pod.Spec.Containers[i].Name)
			}
		}
		b, _ := json.Marshal(rec) // a struct of strings: cannot fail
		annotations[injectedKey] = string(b)
	} else {
		res.Status = "skipped:" + string(firstSkip(res.Findings, ReasonNoTargetContainer))
	}
	annotations[statusKey] = res.Status
	p.setKeys("/metadata/annotations", pod.Annotations, []string{statusKey, injectedKey}, annotations)
	p.setKeys("/metadata/labels", pod.Labels,
		[]string{o.AnnotationPrefix + KeyVersion, o.AnnotationPrefix + KeyTemplatesVersion}, labels)

	res.Patch = p.ops
	switch {
	case len(res.Injected) > 0:
		res.Outcome, res.Reason = OutcomeInjected, firstNoteworthy(res.Findings)
	case res.Status == string(OutcomeInjected):
		res.Outcome, res.Reason = OutcomeSkipped, firstSkip(res.Findings, ReasonAlreadyInjected)
	default:
		res.Outcome, res.Reason = OutcomeSkipped, firstSkip(res.Findings, ReasonNoTargetContainer)
	}
	for _, f := range res.Findings {
		w := WarningPrefix + f.Message
		if !slices.Contains(res.Warnings, w) {
			res.Warnings = append(res.Warnings, w)
		}
	}
	return res
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

func firstSkip(fs []Finding, otherwise Reason) Reason {
	for _, r := range skips {
		for _, f := range fs {
			if f.Reason == r {
				return r
			}
		}
	}
	return otherwise
}

func firstNoteworthy(fs []Finding) Reason {
	for _, f := range fs {
		if f.Reason != "" && !f.Reason.Trivial() {
			return f.Reason
		}
	}
	return ReasonNone
}
