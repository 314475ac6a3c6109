package mutate

import (
	"fmt"
	"slices"
	"strings"

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
}

// Finding is one reason with the sentence a developer reads in kubectl's output.
type Finding struct {
	Reason Reason
	// Component is the volume name the finding is about; empty when it concerns the whole Pod.
	Component string
	Message   string
}

// Choice is what resolution picked for one component.
type Choice struct {
	ConfigMap string
	// Label is the ConfigMap suffix ("v2"), or "default" for the unversioned ConfigMap.
	Label string
	// Version is the semantic version from the ConfigMap's version label; empty when unknown.
	Version string
	Source  Source
}

// candidate is one level of the precedence chain.
type candidate struct {
	source    Source
	what      string // where the value came from, for messages
	configMap string
	label     string
}

// resolve picks the ConfigMap of one component.
//
// Precedence, separately for `version` (tilt-lib) and `templates-version` (tilt-templates):
//
//	normal:                                pod annotation > namespace annotation > server default
//	namespace allow-pod-override: "false"
//	and the namespace sets the key:        namespace annotation > server default (pod value ignored)
//
//	- "default" at any level selects the server default; an alias maps once ("stable" -> "v2").
//	- An invalid value (not a DNS-1123 label, or an invalid ConfigMap name) is ignored at its level.
//	- The first level whose ConfigMap exists wins. If that is not the first level, the source is
//	  "fallback". If none exists, the first level is used anyway (volumes are optional).
func resolve(o Options, c component, r Request, lookup ConfigMapLookup) (Choice, []Finding) {
	var findings []Finding
	key := o.AnnotationPrefix + c.versionKey
	def := o.defaultCandidate(c)

	nsVal, nsSet := nonEmpty(r.NamespaceAnnotations, key)
	podVal, podSet := nonEmpty(r.Pod.Annotations, key)
	forbidden := strings.EqualFold(r.NamespaceAnnotations[o.AnnotationPrefix+KeyAllowPodOverride], "false")

	var chain []candidate
	level := func(val string, src Source, where string) {
		cand, err := o.candidate(c, val, src, where, def)
		if err != "" {
			findings = append(findings, Finding{ReasonInvalidVersion, c.name, fmt.Sprintf(
				"%s %s on the %s is not a valid version and was ignored (%s)", key, quote(val), where, err)})
			return
		}
		chain = append(chain, cand)
	}
	switch {
	case !podSet:
	case forbidden && nsSet && podVal == nsVal:
		// The pod repeats the namespace pin: nothing is overridden, nothing to report.
	case forbidden && nsSet:
		findings = append(findings, Finding{ReasonOverrideForbidden, c.name, fmt.Sprintf(
			"%s %s on the pod was ignored: namespace %q pins %s and sets %s%s: \"false\"",
			key, quote(podVal), r.Namespace, quote(nsVal), o.AnnotationPrefix, KeyAllowPodOverride)})
	default:
		level(podVal, SourcePod, "pod")
	}
	if nsSet {
		level(nsVal, SourceNamespace, "namespace")
	}
	chain = append(chain, def)

	first := chain[0]
	for i, cand := range chain {
		exists, version := lookup.Lookup(r.Namespace, cand.configMap)
		if !exists {
			continue
		}
		if i == 0 || cand.configMap == first.configMap {
			return Choice{cand.configMap, cand.label, version, cand.source}, findings
		}
		findings = append(findings, Finding{ReasonConfigMapMissing, c.name, fmt.Sprintf(
			"ConfigMap %q (from the %s) not found in namespace %q; mounted %q (from the %s) instead",
			first.configMap, first.what, r.Namespace, cand.configMap, cand.what)})
		return Choice{cand.configMap, cand.label, version, SourceFallback}, findings
	}
	findings = append(findings, Finding{ReasonConfigMapMissing, c.name, fmt.Sprintf(
		"ConfigMap %q (from the %s) not found in namespace %q; mounted as optional, %s stays empty until it exists",
		first.configMap, first.what, r.Namespace, c.MountPath)})
	return Choice{first.configMap, first.label, "", first.source}, findings
}

func (o Options) defaultCandidate(c component) candidate {
	cand := candidate{source: SourceDefault, what: "server default", configMap: c.ConfigMap, label: DefaultVersionName}
	if v := o.alias(c.DefaultVersion); v != "" {
		cand.configMap, cand.label = c.ConfigMap+"-"+v, v
	}
	return cand
}

// candidate turns an annotation value into a level of the chain, or explains why it is invalid.
func (o Options) candidate(c component, val string, src Source, where string, def candidate) (candidate, string) {
	what := where + " annotation"
	v := val
	if a, ok := o.Aliases[val]; ok {
		v = a
		what = fmt.Sprintf("%s via alias %s=%s", what, val, a)
	}
	if v == DefaultVersionName || v == "" {
		return candidate{src, what, def.configMap, def.label}, ""
	}
	if msgs := validation.IsDNS1123Label(v); len(msgs) > 0 {
		return candidate{}, "must be a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters"
	}
	name := c.ConfigMap + "-" + v
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return candidate{}, fmt.Sprintf("ConfigMap name %q would be invalid", name)
	}
	return candidate{src, what, name, v}, ""
}

// optedOut reports whether the Pod is opted out of injection, with the findings that explain it.
//
//	inject, namespace allow-pod-override "false" and the namespace sets inject:
//	                                  namespace value ("false" opts out), pod value ignored
//	otherwise:                        pod "true"/"false" > namespace "false" > injected
//
// Only "true" and "false" (any case) mean something on a Pod: a Pod's "no" or "disabled" must not
// override its Namespace's opt-out, so other values are ignored with a warning.
func optedOut(o Options, r Request) (bool, []Finding) {
	key := o.AnnotationPrefix + KeyInject
	pod, podSet := nonEmpty(r.Pod.Annotations, key)
	ns, nsSet := nonEmpty(r.NamespaceAnnotations, key)
	podFalse, nsFalse := strings.EqualFold(pod, "false"), strings.EqualFold(ns, "false")
	podTrue := strings.EqualFold(pod, "true")
	nsOut := Finding{ReasonOptedOut, "", fmt.Sprintf(
		"%s is \"false\" on namespace %q; nothing injected", key, r.Namespace)}

	var findings []Finding
	if podSet && !podFalse && !podTrue {
		findings = append(findings, Finding{"", "", fmt.Sprintf(
			"%s %s on the pod is neither \"true\" nor \"false\" and was ignored", key, quote(pod))})
		podSet = false
	}
	if nsSet && strings.EqualFold(r.NamespaceAnnotations[o.AnnotationPrefix+KeyAllowPodOverride], "false") {
		if podSet && podFalse != nsFalse {
			findings = append(findings, Finding{ReasonOverrideForbidden, "", fmt.Sprintf(
				"%s %s on the pod was ignored: namespace %q sets %s %s and %s%s: \"false\"",
				key, quote(pod), r.Namespace, key, quote(ns), o.AnnotationPrefix, KeyAllowPodOverride)})
		}
		if nsFalse {
			return true, append(findings, nsOut)
		}
		return false, findings
	}
	switch {
	case podSet && podFalse:
		return true, append(findings, Finding{ReasonOptedOut, "", fmt.Sprintf(
			"%s is \"false\" on the pod; nothing injected", key)})
	case podSet:
		return false, findings
	case nsFalse:
		return true, append(findings, nsOut)
	}
	return false, findings
}

// targets returns the indexes of the containers to mount into.
//
//	containers annotation (pod) > Options.Containers present in the pod >
//	containers with env CODER_AGENT_TOKEN > the first container. Init containers never.
func targets(o Options, r Request) ([]int, []Finding) {
	cs := r.Pod.Spec.Containers
	if len(cs) == 0 {
		return nil, []Finding{{ReasonNoTargetContainer, "", "the pod has no containers; nothing injected"}}
	}
	key := o.AnnotationPrefix + KeyContainers
	if val, ok := nonEmpty(r.Pod.Annotations, key); ok {
		var idx []int
		var unknown []string
		for _, name := range strings.Split(val, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if i := containerIndex(cs, name); i >= 0 && !slices.Contains(idx, i) {
				idx = append(idx, i)
			} else if i < 0 {
				unknown = append(unknown, name)
			}
		}
		if len(idx) == 0 {
			return nil, []Finding{{ReasonNoTargetContainer, "", fmt.Sprintf(
				"%s %s names no container of this pod; nothing injected", key, quote(val))}}
		}
		var f []Finding
		if len(unknown) > 0 {
			// Not a reason of its own: the named containers that exist are still injected.
			f = append(f, Finding{"", "", fmt.Sprintf("%s names containers that do not exist: %s",
				key, quote(strings.Join(unknown, ",")))})
		}
		return idx, f
	}
	var idx []int
	for i, c := range cs {
		if slices.Contains(o.Containers, c.Name) {
			idx = append(idx, i)
		}
	}
	if len(idx) > 0 {
		return idx, nil
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
		return idx, nil
	}
	return []int{0}, nil
}

func nonEmpty(m map[string]string, key string) (string, bool) {
	v, ok := m[key]
	return v, ok && v != ""
}

func containerIndex(cs []corev1.Container, name string) int {
	for i := range cs {
		if cs[i].Name == name {
			return i
		}
	}
	return -1
}

// quote renders a user-supplied value for a warning: ASCII only (warnings with control or
// non-ASCII characters may be dropped by clients) and bounded (annotation values can be 256 KiB).
func quote(v string) string {
	const max = 64
	if len(v) > max {
		v = v[:max] + "..."
	}
	return fmt.Sprintf("%+q", v)
}
