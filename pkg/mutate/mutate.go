package mutate

import (
	"strconv"

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
	// Findings are every reason found, in the order found (bounded: at most a few per component);
	// Warnings are their texts, de-duplicated and capped at MaxWarnings plus one summary.
	Findings []Finding
	Warnings []string
	// Envbox is what was done about the CODER_MOUNTS of envbox containers (metric label).
	Envbox EnvboxOutcome
}

// Injection is one component this patch adds.
type Injection struct {
	Component string
	Choice
}

// WarningPrefix starts every warning so kubectl users can tell who is speaking.
const WarningPrefix = "tilt-lib-injector: "

// Mutate decides what the Pod in r gets and returns the patch. It never fails: every problem with
// the Pod or its annotations becomes a Finding, and the Pod is admitted. Its work is linear in the
// size of the Pod (see the limits in limits.go).
func Mutate(o Options, r Request) Result {
	r = r.withDefaults()
	var fs findings
	keys := keysOf(o)
	plans := plan(o, r, keys, &fs)

	// Room for a typical injection (two volumes, their mounts, two annotations, each component's
	// two labels; an envbox Pod's CODER_MOUNTS grows it once): growing the slice would cost more on the admission path than building the patch.
	p := patch{ops: make([]jsonpatch.Operation, 0, 6+2*len(o.Components))}
	addVolumesAndMounts(&p, r.Pod, plans)
	listed, envbox := envboxOf(&p, o, r.Pod, plans, &fs)
	rec := recordOf(considered(r.Pod), plans)
	if rec != nil {
		rec.Envbox = listed
	}
	res := Result{Status: status(rec, fs), Envbox: envbox}
	ownAnnotations(&p, keys, r.Pod.Annotations, res.Status, rec, &fs)
	ownLabels(&p, keys, r.Pod.Labels, plans)

	res.Patch = p.ops
	for _, pl := range plans {
		if pl.carried() && pl.added() {
			res.Injected = append(res.Injected, Injection{Component: pl.Name, Choice: pl.Choice})
		}
	}
	res.Outcome, res.Reason = outcome(res, fs)
	res.Findings, res.Warnings = fs, warnings(fs)
	if r.Trace != nil {
		r.Trace.conclude(res.Status, plans)
	}
	return res
}

func (r Request) withDefaults() Request {
	if r.ConfigMaps == nil {
		r.ConfigMaps = AllExist{}
	}
	if r.Pod == nil {
		r.Pod = &corev1.Pod{}
	}
	return r
}

// plan decides every component: nothing when the Pod is opted out or has no target container.
func plan(o Options, r Request, keys ownedKeys, fs *findings) []componentPlan {
	forbidden := overridesForbidden(o, r, fs)
	out := optedOut(o, r, forbidden, fs)
	if r.Trace != nil {
		tracePolicy(r.Trace, o, forbidden, out, *fs)
	}
	if out {
		return nil
	}
	idx := targets(o, r, fs)
	if r.Trace != nil {
		traceTargets(r.Trace, r.Pod, idx)
	}
	if len(idx) == 0 {
		return nil
	}
	var plans []componentPlan
	for i, c := range o.Components {
		plans = append(plans, planComponent(o, c, keys.version[i], r, r.ConfigMaps, forbidden, idx, fs))
	}
	return plans
}

// considered is the containers Mutate may touch: the first MaxContainers.
func considered(pod *corev1.Pod) []corev1.Container {
	return pod.Spec.Containers[:min(len(pod.Spec.Containers), MaxContainers)]
}

// addVolumesAndMounts rewrites our earlier volumes (component order), appends the new volumes
// (component order), then each container's new mounts (container order, component order within a
// container).
func addVolumesAndMounts(p *patch, pod *corev1.Pod, plans []componentPlan) {
	var volumes []corev1.Volume
	mounts := make([][]corev1.VolumeMount, len(considered(pod)))
	for _, pl := range plans {
		if !pl.carried() {
			continue
		}
		if pl.rewrite {
			rewriteVolume(p, pod, pl)
		}
		if pl.newVolume {
			volumes = append(volumes, corev1.Volume{Name: pl.Name, VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: pl.ConfigMap},
					Optional:             ptr.To(true),
				}}})
		}
		for _, i := range pl.newMounts {
			mounts[i] = append(mounts[i], corev1.VolumeMount{Name: pl.Name, MountPath: pl.MountPath, ReadOnly: true})
		}
	}
	appendAll(p, "/spec/volumes", len(pod.Spec.Volumes), volumes)
	for i, ms := range mounts {
		appendAll(p, containerPath(i), len(pod.Spec.Containers[i].VolumeMounts), ms)
	}
}

// rewriteVolume points our earlier volume at the chosen ConfigMap and makes it optional, as a new
// one would be. Only those two members change ("add" on an object member that exists replaces
// it): a defaultMode the Pod set stays, and the mounts follow the volume by name.
func rewriteVolume(p *patch, pod *corev1.Pod, pl componentPlan) {
	at := "/spec/volumes/" + strconv.Itoa(pl.volume) + "/configMap/"
	p.add(at+"name", pl.ConfigMap)
	if cm := pod.Spec.Volumes[pl.volume].ConfigMap; cm.Optional == nil || !*cm.Optional {
		p.add(at+"optional", true)
	}
}

func status(rec *Record, fs findings) string {
	if rec != nil {
		return string(OutcomeInjected)
	}
	return "skipped:" + string(firstSkip(fs, ReasonNoTargetContainer))
}

func outcome(res Result, fs findings) (Outcome, Reason) {
	switch {
	case len(res.Injected) > 0:
		return OutcomeInjected, firstNoteworthy(fs)
	case res.Status == string(OutcomeInjected):
		return OutcomeSkipped, firstSkip(fs, ReasonAlreadyInjected)
	}
	return OutcomeSkipped, firstSkip(fs, ReasonNoTargetContainer)
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
		if !f.Reason.Trivial() {
			return f.Reason
		}
	}
	return ReasonNone
}
