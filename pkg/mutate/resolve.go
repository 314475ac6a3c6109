package mutate

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Request is the input of one mutation.
type Request struct {
	// Namespace is the Pod's namespace (from the AdmissionRequest: a Pod being created often has
	// metadata.namespace unset).
	Namespace string
	// NamespaceAnnotations are the annotations of that Namespace; nil when unknown.
	NamespaceAnnotations map[string]string
	Pod                  *corev1.Pod
	// ConfigMaps answers which ConfigMaps exist; nil means AllExist.
	ConfigMaps ConfigMapLookup
	// Trace, when not nil, receives every step of the decision (trace.go): `webhook explain`
	// asks for it, admission never does.
	Trace *Trace
}

// Choice is what resolution picked for one component.
type Choice struct {
	ConfigMap string
	// Label is the ConfigMap suffix ("v2"), or "default" for the unversioned ConfigMap: what the
	// Pod mounts, the value of the component's version label.
	Label string
	// Requested is the Label of the ConfigMap the first level of the chain asked for: Label,
	// unless the Pod fell back (a pin to v3 that fell back to v2 mounts "v2" but requested "v3").
	// The value of the component's requested-version label.
	Requested string
	// Version is the semantic version from the ConfigMap's version label; empty when unknown.
	Version string
	Source  Source
	// Exists reports whether the lookup found the ConfigMap. When it is false, ConfigMap is built
	// from a developer's annotation value that names nothing real, so it must not become a metric
	// label value.
	Exists bool
	// Rollout is the rollout that placed this choice (rollout.go); zero when none applied.
	Rollout RolloutChoice
}

// candidate is one level of the precedence chain.
type candidate struct {
	source    Source
	what      string // where the value came from, for messages
	configMap string
	label     string
	// alias is the alias this level's value went through ("stable"), "" for a literal version:
	// only a choice made through a rollout's alias is moved by it.
	alias string
}

// resolve picks the ConfigMap of one component.
//
// Precedence, separately for each component's version key (`version` for tilt-lib,
// `templates-version` for tilt-templates):
//
//	normal:                                pod annotation > namespace annotation > server default
//	namespace allow-pod-override: "false": namespace annotation > server default (pod value ignored,
//	                                       whether or not the namespace sets the key)
//
//	- "default" at any level selects the server default; an alias maps once ("stable" -> "v2").
//	- An invalid value (not a DNS-1123 label, or an invalid ConfigMap name) is ignored at its level.
//	- The first level whose ConfigMap exists wins. If that is not the first level, the source is
//	  "fallback". If none exists, the first level is used anyway (volumes are optional).
//
// key is the component's version annotation key, prefix included.
func resolve(o Options, c Component, key string, r Request, lookup ConfigMapLookup, forbidden bool, fs *findings) Choice {
	def := o.defaultCandidate(c)

	nsVal, nsSet := nonEmpty(r.NamespaceAnnotations, key)
	podVal, podSet := nonEmpty(r.Pod.Annotations, key)

	var chain []candidate
	tr := r.Trace
	level := func(val string, src Source, where string) {
		cand, err := o.candidate(c, val, src, where, def)
		if err != "" {
			fs.add(ReasonInvalidVersion, c.Name, "%s %s on the %s is not a valid version and was ignored (%s)",
				key, quote(val), where, err)
			if tr != nil {
				tr.add(c.Name, StepLevel, false, "%s annotation %s=%s: not a valid version, skipped (%s)", where, key, quote(val), err)
			}
			return
		}
		chain = append(chain, cand)
	}
	switch {
	case !podSet:
		if tr != nil {
			tr.add(c.Name, StepLevel, false, "pod annotation %s: not set", key)
		}
	case forbidden && (podVal == nsVal || !nsSet && podVal == DefaultVersionName):
		// The pod repeats what applies anyway: nothing is overridden, nothing to report.
		if tr != nil {
			tr.add(c.Name, StepLevel, false, "pod annotation %s=%s: overrides are locked, and it repeats what applies anyway", key, quote(podVal))
		}
	case forbidden:
		forbiddenPodValue(o, r, key, podVal, fs)
		if tr != nil {
			tr.add(c.Name, StepLevel, false, "pod annotation %s=%s: ignored, the namespace locks overrides", key, quote(podVal))
		}
	default:
		level(podVal, SourcePod, "pod")
	}
	if nsSet {
		level(nsVal, SourceNamespace, "namespace")
	} else if tr != nil {
		tr.add(c.Name, StepLevel, false, "namespace %s annotation %s: not set", r.Namespace, key)
	}
	chain = append(chain, def)

	first := chain[0]
	for i, cand := range chain {
		version, exists := lookup.Version(r.Namespace, cand.configMap)
		if tr != nil {
			traceCandidate(tr, c, r.Namespace, cand, exists, i > 0 && cand.configMap != first.configMap)
		}
		if !exists {
			continue
		}
		ch := Choice{ConfigMap: cand.configMap, Label: cand.label, Requested: first.label, Version: version, Source: cand.source, Exists: true}
		if i > 0 && cand.configMap != first.configMap {
			fs.add(ReasonConfigMapMissing, c.Name, "ConfigMap %s (from the %s) not found in namespace %s; mounted %s (from the %s) instead",
				quote(first.configMap), first.what, quote(r.Namespace), quote(cand.configMap), cand.what)
			ch.Source = SourceFallback
		}
		return applyRollout(o, c, cand.alias, r, lookup, ch, fs)
	}
	fs.add(ReasonConfigMapMissing, c.Name, "ConfigMap %s (from the %s) not found in namespace %s; mounted as optional, %s stays empty until it exists",
		quote(first.configMap), first.what, quote(r.Namespace), c.MountPath)
	if tr != nil {
		tr.add(c.Name, StepFallback, true, "no level's ConfigMap exists in %s: the first, %s (from the %s), is mounted anyway (optional, empty until it exists)",
			r.Namespace, first.configMap, first.what)
	}
	ch := Choice{ConfigMap: first.configMap, Label: first.label, Requested: first.label, Source: first.source}
	return applyRollout(o, c, first.alias, r, lookup, ch, fs)
}

func (o Options) defaultCandidate(c Component) candidate {
	cand := candidate{source: SourceDefault, what: "server default", configMap: c.Base, label: DefaultVersionName}
	if v := o.alias(c.DefaultVersion); v != "" {
		cand.configMap, cand.label = c.Base+"-"+v, v
	}
	if _, ok := o.Aliases[c.DefaultVersion]; ok {
		cand.alias = c.DefaultVersion
	}
	return cand
}

// candidate turns an annotation value into a level of the chain, or explains why it is invalid.
func (o Options) candidate(c Component, val string, src Source, where string, def candidate) (candidate, string) {
	what := where + " annotation"
	v, alias := val, ""
	if a, ok := o.Aliases[val]; ok {
		v, alias = a, val
		what = fmt.Sprintf("%s via alias %s=%s", what, val, a)
	}
	if v == DefaultVersionName || v == "" {
		if alias == "" {
			alias = def.alias // "default" selects the server default, and whatever alias it went through
		}
		return candidate{src, what, def.configMap, def.label, alias}, ""
	}
	if msgs := validation.IsDNS1123Label(v); len(msgs) > 0 {
		return candidate{}, "must be a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters"
	}
	name := c.Base + "-" + v
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return candidate{}, fmt.Sprintf("ConfigMap name %s would be invalid", quote(name))
	}
	return candidate{src, what, name, v, alias}, ""
}

// traceCandidate records one level of the chain: its value, the alias it went through, and
// whether its ConfigMap exists (the first that does is taken).
func traceCandidate(tr *Trace, c Component, namespace string, cand candidate, exists, fallback bool) {
	if cand.alias != "" {
		tr.add(c.Name, StepAlias, true, "%s: alias %s = %s", cand.what, cand.alias, cand.label)
	}
	switch {
	case !exists:
		tr.add(c.Name, StepConfigMap, false, "%s → %s: not in namespace %s, skipped", cand.what, cand.configMap, namespace)
	case fallback:
		tr.add(c.Name, StepFallback, true, "%s → %s: exists in %s, taken as a fallback", cand.what, cand.configMap, namespace)
	default:
		tr.add(c.Name, StepLevel, true, "%s → %s: exists in %s, taken", cand.what, cand.configMap, namespace)
	}
}
