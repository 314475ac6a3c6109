package mutate

import (
	"slices"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/platform-tools/tilt-lib-injector/pkg/rollout"
)

// Rollout is one sticky canary rollout in force, as the decision reads it (docs/design.md,
// "Sticky canary rollouts"). pkg/versions builds them once per document, validated: at most one
// rollout moves a given component through a given alias.
type Rollout struct {
	// Name is the rollout's name: the record's rollout entry and a metric label value.
	Name string
	// From is the alias whose choices move.
	From string
	// To is the version the canary mounts ("<base>-<To>").
	To string
	// Components are the component names moved; empty moves every component.
	Components []string
	// Spec places a Pod in an arm (salt, key, threshold, namespace allow-list).
	Spec rollout.Spec
}

// RolloutChoice is where a rollout placed one component of a Pod; the zero value (Name empty)
// means no rollout applied. It is a value, so a review no rollout applies to allocates nothing.
type RolloutChoice struct {
	Name string
	Arm  rollout.Arm
	// Bucket is the key's bucket, -1 without a key; Threshold is the rollout's basis (buckets
	// below it are in the canary).
	Bucket, Threshold int
}

// rolloutFor returns the rollout moving component c's choices made through alias, or nil. A
// literal pin (alias "") is never moved.
func (o Options) rolloutFor(c Component, alias string) *Rollout {
	if alias == "" {
		return nil
	}
	for i := range o.Rollouts {
		ro := &o.Rollouts[i]
		if ro.From == alias && (len(ro.Components) == 0 || slices.Contains(ro.Components, c.Name)) {
			return ro
		}
	}
	return nil
}

// applyRollout moves ch, the choice resolution made through alias, to the canary of the rollout
// on that alias when the Pod's bucket is in it and the canary's ConfigMap exists in the Pod's
// namespace. Otherwise the Pod stays on ch (the baseline): rollout_no_key without a key,
// configmap_missing (arm unavailable) without the canary's ConfigMap. Either way the choice
// records the rollout and the arm.
func applyRollout(o Options, c Component, alias string, r Request, lookup ConfigMapLookup, ch Choice, fs *findings) Choice {
	ro := o.rolloutFor(c, alias)
	if ro == nil || !ro.Spec.Applies(r.Namespace) {
		if ro != nil && r.Trace != nil {
			r.Trace.add(c.Name, StepRollout, false, "rollout %s on alias %s: not for namespace %s", ro.Name, alias, r.Namespace)
		}
		return ch
	}
	pod := r.Pod
	a := rollout.Assign(ro.Spec, r.Namespace, pod.Name, pod.GenerateName, pod.Labels)
	ch.Rollout = RolloutChoice{Name: ro.Name, Arm: a.Arm, Bucket: a.Bucket, Threshold: a.Threshold}
	switch a.Arm {
	case rollout.ArmNoKey:
		fs.add(ReasonRolloutNoKey, c.Name, "rollout %s: the Pod has no label %s and a generated name, so it has no stable bucket; it stays on %s",
			ro.Name, keyLabel(ro.Spec.Key), quote(ch.ConfigMap))
		return traceRollout(r.Trace, c, ro, alias, ch)
	case rollout.ArmBaseline:
		return traceRollout(r.Trace, c, ro, alias, ch)
	}
	canary := c.Base + "-" + ro.To
	version, exists := "", false
	if len(validation.IsDNS1123Subdomain(canary)) == 0 {
		version, exists = lookup.Version(r.Namespace, canary)
	}
	if !exists {
		ch.Rollout.Arm = rollout.ArmUnavailable
		fs.add(ReasonConfigMapMissing, c.Name, "rollout %s: canary ConfigMap %s not found in namespace %s; stays on %s",
			ro.Name, quote(canary), quote(r.Namespace), quote(ch.ConfigMap))
		return traceRollout(r.Trace, c, ro, alias, ch)
	}
	fs.add(ReasonRolloutCanary, c.Name, "rollout %s: this workspace mounts %s, the canary of alias %s (%s)%s",
		ro.Name, quote(canary), quote(alias), quote(ch.ConfigMap), pinHint(o, c, ch.Label))
	ch.ConfigMap, ch.Label, ch.Requested, ch.Version, ch.Source, ch.Exists = canary, ro.To, ro.To, version, SourceRollout, true
	return traceRollout(r.Trace, c, ro, alias, ch)
}

// pinHint tells the developer how to keep the baseline: a literal version is never moved. The
// unversioned ConfigMap has no literal pin ("default" is the server default, which the rollout
// moves), so there is no hint for it.
func pinHint(o Options, c Component, label string) string {
	if label == DefaultVersionName {
		return ""
	}
	return "; to stay on " + label + ", annotate the Pod or its namespace " + o.AnnotationPrefix + c.VersionKey + "=" + label
}

func keyLabel(key string) string {
	if key == rollout.KeyUser {
		return rollout.LabelUserID
	}
	return rollout.LabelWorkspaceID
}

// traceRollout records where a rollout placed the component, when tracing, and returns ch.
func traceRollout(tr *Trace, c Component, ro *Rollout, alias string, ch Choice) Choice {
	if tr == nil {
		return ch
	}
	tr.add(c.Name, StepRollout, ch.Rollout.Arm == rollout.ArmCanary, "rollout %s on alias %s: bucket %d, threshold %d → arm %s, %s",
		ro.Name, alias, ch.Rollout.Bucket, ch.Rollout.Threshold, ch.Rollout.Arm, ch.ConfigMap)
	return ch
}
