package explain

import (
	"fmt"
	"strings"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// DocsConfigMaps is the section of the README that says how ConfigMaps reach a namespace.
const DocsConfigMaps = "README.md#troubleshooting-with-webhook-explain"

// decisionChecks are the rows of the decision itself, from mutate.Mutate's Result.
func decisionChecks(in Input, d Decision, res mutate.Result) []Check {
	out := []Check{optOutCheck(in, res), overrideCheck(in, res)}
	if strings.HasPrefix(d.Status, "skipped:"+string(mutate.ReasonOptedOut)) {
		return out
	}
	for i, c := range in.Options.Components {
		out = append(out, versionCheck(in, c, d, d.Components[i], res), configMapCheck(in, c, d.Components[i]))
		if dc, ok := distributionCheck(in, c, d.Components[i]); ok {
			out = append(out, dc)
		}
	}
	out = append(out, targetsCheck(in, d, res))
	if fs := findingsOf(res.Findings, "*", mutate.ReasonVolumeConflict, mutate.ReasonMountPathConflict); len(fs) > 0 {
		out = append(out, Check{Layer: LayerConflicts, Description: "no volume or mount of the Pod's own stands in the way",
			Result: Error, Detail: messages(fs),
			Hint: "rename the Pod's own volume, or mount it at another path: the webhook never replaces what it does not own"})
	}
	return out
}

func optOutCheck(in Input, res mutate.Result) Check {
	c := Check{Layer: LayerOptOut, Description: "neither the Pod nor its namespace sets " + in.Options.AnnotationPrefix + mutate.KeyInject + `: "false"`}
	fs := findingsOf(res.Findings, "*", mutate.ReasonOptedOut)
	if len(fs) == 0 {
		c.Result, c.Detail = OK, "not opted out"
		if ws := findingsOf(res.Findings, "", mutate.ReasonInvalidAnnotation); len(ws) > 0 {
			c.Result, c.Detail = Warning, "not opted out; "+messages(ws)
			c.Hint = `only "true" and "false" mean something`
		}
		return c
	}
	c.Result, c.Detail = Error, messages(fs)
	c.Hint = "remove the annotation (or set it to \"true\") where it is set: " + in.Options.AnnotationPrefix + mutate.KeyInject
	return c
}

func overrideCheck(in Input, res mutate.Result) Check {
	key := in.Options.AnnotationPrefix + mutate.KeyAllowPodOverride
	c := Check{Layer: LayerOverride, Description: "the Pod's own annotations are honoured (namespace " + key + ")", Result: OK}
	if fs := findingsOf(res.Findings, "*", mutate.ReasonOverrideForbidden); len(fs) > 0 {
		c.Result, c.Detail = Warning, messages(fs)
		c.Hint = fmt.Sprintf("namespace %s forbids Pod overrides: pin the version on the namespace, or ask its owner to set %s: \"true\"", in.Subject.Namespace, key)
		return c
	}
	if v := in.NamespaceAnnotations[key]; v != "" && !strings.EqualFold(v, "true") {
		c.Detail = fmt.Sprintf("namespace %s forbids Pod overrides (%s: %q); the Pod sets none", in.Subject.Namespace, key, v)
	} else {
		c.Detail = "Pod overrides allowed"
	}
	return c
}

// versionCheck says which level of the precedence chain chose the component's version.
func versionCheck(in Input, c mutate.Component, d Decision, cd ComponentDecision, res mutate.Result) Check {
	ch := Check{Layer: c.Name + suffixVersion, Description: "which level chose the " + c.Name + " version (pod > namespace > server default)", Result: OK}
	invalid := findingsOf(res.Findings, c.Name, mutate.ReasonInvalidVersion)
	if !cd.Mounted {
		ch.Result, ch.Detail = Error, c.Name+" is not mounted"
		if fs := findingsOf(res.Findings, c.Name, mutate.ReasonVolumeConflict, mutate.ReasonMountPathConflict); len(fs) > 0 {
			ch.Detail += ": " + messages(fs)
		} else {
			ch.Detail += ": " + res.Status
		}
		ch.Hint = "see the rows below"
		return ch
	}
	ch.Detail = describeChoice(in, c, cd)
	if ro := rolloutSteps(d.Steps, c.Name); ro != "" {
		ch.Detail += "; " + ro
	}
	if cd.Source == mutate.SourceFallback {
		ch.Result = Warning
		ch.Detail = messages(findingsOf(res.Findings, c.Name, mutate.ReasonConfigMapMissing))
		ch.Hint = "the version asked for has no ConfigMap in the namespace: see the configmap row"
	}
	if len(invalid) > 0 {
		ch.Result = Warning
		ch.Detail += "; " + messages(invalid)
		ch.Hint = "a version is a DNS-1123 label (v2, 1-4) or an alias; fix or remove the annotation"
	}
	return ch
}

// describeChoice renders the decision's source: "namespace team-a pins stable → alias stable = v2".
func describeChoice(in Input, c mutate.Component, cd ComponentDecision) string {
	key := in.Options.AnnotationPrefix + c.VersionKey
	via := func(val string) string {
		if a, ok := in.Options.Aliases[val]; ok {
			return fmt.Sprintf("%s → alias %s = %s", val, val, a)
		}
		return val
	}
	var s string
	switch cd.Source {
	case mutate.SourcePod:
		s = fmt.Sprintf("pod annotation %s=%s", key, via(in.Pod.Annotations[key]))
	case mutate.SourceNamespace:
		s = fmt.Sprintf("namespace %s pins %s", in.Subject.Namespace, via(in.NamespaceAnnotations[key]))
	case mutate.SourceDefault:
		s = "server default " + c.DefaultVersionFlag + " " + defaultOf(in.Options, c)
	case mutate.SourceRollout:
		// The rollout step (appended by the caller) says which level's alias it moved.
		return "placed by a rollout: " + cd.ConfigMap + versionOf(cd)
	}
	if !strings.HasSuffix(s, " "+cd.Label) {
		s += " → " + cd.Label
	}
	return s + versionOf(cd)
}

func versionOf(cd ComponentDecision) string {
	if cd.Version == "" {
		return ""
	}
	return " (" + cd.Version + ")"
}

// rolloutSteps are the trace's rollout steps of a component: which rollout, bucket, arm.
func rolloutSteps(steps []mutate.Step, component string) string {
	var out []string
	for _, s := range steps {
		if s.Component == component && s.Kind == mutate.StepRollout {
			out = append(out, s.Detail)
		}
	}
	return strings.Join(out, "; ")
}

func defaultOf(o mutate.Options, c mutate.Component) string {
	switch v := c.DefaultVersion; {
	case v == "":
		return `"" (the unversioned ConfigMap)`
	case o.Aliases[v] != "":
		return fmt.Sprintf("%s → alias %s = %s", v, v, o.Aliases[v])
	default:
		return v
	}
}

// configMapCheck says whether the chosen ConfigMap is in the Pod's namespace, and where it is
// when it is not: ConfigMap volumes are namespaced.
func configMapCheck(in Input, c mutate.Component, cd ComponentDecision) Check {
	ch := Check{Layer: c.Name + suffixConfigMap, Description: "the chosen " + c.Name + " ConfigMap exists in the Pod's namespace"}
	ns := in.Subject.Namespace
	switch {
	case !cd.Mounted:
		ch.Result, ch.Detail = OK, "nothing to mount"
	case cd.Exists && cd.Source == mutate.SourceFallback:
		ch.Result = Warning
		want := c.Base
		if cd.Requested != mutate.DefaultVersionName {
			want += "-" + cd.Requested
		}
		ch.Detail = fmt.Sprintf("%s not in %s%s; mounted %s instead", want, ns, elsewhere(in, want), cd.ConfigMap)
		ch.Hint = copyHint(in, want)
	case cd.Exists:
		ch.Result, ch.Detail = OK, fmt.Sprintf("%s in %s", cd.ConfigMap, ns)
		if cd.Version != "" {
			ch.Detail += ", version " + cd.Version
		}
	default:
		ch.Result = Error
		ch.Detail = fmt.Sprintf("%s not in %s%s: %s stays empty (the volume is optional)", cd.ConfigMap, ns, elsewhere(in, cd.ConfigMap), c.MountPath)
		ch.Hint = copyHint(in, cd.ConfigMap)
	}
	return ch
}

func elsewhere(in Input, name string) string {
	if where := in.ConfigMaps.Namespaces(name); len(where) > 0 {
		return " (it exists in: " + strings.Join(where, ", ") + ")"
	}
	return " (it exists in no namespace)"
}

func copyHint(in Input, name string) string {
	ns := in.Subject.Namespace
	where := in.ConfigMaps.Namespaces(name)
	if len(where) == 0 {
		return fmt.Sprintf("publish ConfigMap %s into %s, or pin a version that exists (see %s)", name, ns, DocsConfigMaps)
	}
	return fmt.Sprintf("ConfigMap volumes are namespaced: copy it into %s (kubectl get configmap %s -n %s -o yaml | sed '/namespace:/d; /resourceVersion:/d; /uid:/d' | kubectl apply -n %s -f -; see %s)",
		ns, name, where[0], ns, DocsConfigMaps)
}

// targetsCheck says which containers get the mounts, and why a named one does not.
func targetsCheck(in Input, d Decision, res mutate.Result) Check {
	c := Check{Layer: LayerTargets, Description: "the containers that get the mounts (containers annotation > --containers > CODER_AGENT_TOKEN > the first)"}
	if fs := findingsOf(res.Findings, "*", mutate.ReasonNoTargetContainer); len(fs) > 0 {
		c.Result, c.Detail = Error, messages(fs)
		c.Hint = "add a container to the Pod"
		return c
	}
	names := make([]string, 0, len(in.Pod.Spec.Containers))
	for _, k := range in.Pod.Spec.Containers {
		names = append(names, k.Name)
	}
	c.Result, c.Detail = OK, "mounted into "+strings.Join(d.Containers, ", ")
	if len(d.Containers) == 0 {
		c.Detail = "no container carries a component"
	}
	if fs := findingsOf(res.Findings, "", mutate.ReasonUnknownContainer, mutate.ReasonTooManyContainers); len(fs) > 0 {
		c.Result = Warning
		c.Detail += "; " + messages(fs)
		c.Hint = fmt.Sprintf("the Pod's containers are %s: name them in %s%s", strings.Join(names, ", "), in.Options.AnnotationPrefix, mutate.KeyContainers)
	} else if untargeted := others(names, d.Containers); len(untargeted) > 0 {
		c.Detail += "; not targeted: " + strings.Join(untargeted, ", ")
	}
	return c
}

func others(all, some []string) []string {
	var out []string
	for _, a := range all {
		found := false
		for _, s := range some {
			found = found || a == s
		}
		if !found {
			out = append(out, a)
		}
	}
	return out
}
