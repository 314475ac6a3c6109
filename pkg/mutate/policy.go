package mutate

import "strings"

// overridesForbidden reads the Namespace's allow-pod-override annotation.
//
//	unset or empty:  Pod values allowed
//	"true":          Pod values allowed
//	"false":         every Pod-level key (version, templates-version, inject) is ignored
//	anything else:   as "false", with an invalid_annotation warning
//
// A value that is neither "true" nor "false" fails closed: the key exists only to restrict, and a
// platform engineer who wrote "no" or "flase" meant to; reading it as "allowed" would silently
// undo the enforcement.
func overridesForbidden(o Options, r Request, fs *findings) bool {
	key := o.AnnotationPrefix + KeyAllowPodOverride
	v, set := nonEmpty(r.NamespaceAnnotations, key)
	switch {
	case !set || strings.EqualFold(v, "true"):
		return false
	case strings.EqualFold(v, "false"):
		return true
	}
	fs.add(ReasonInvalidAnnotation, "",
		`%s %s on namespace %s is neither "true" nor "false"; Pod overrides are forbidden as with "false"`,
		key, quote(v), quote(r.Namespace))
	return true
}

// optedOut reports whether the Pod is opted out of injection.
//
//	namespace forbids Pod overrides:  namespace "false" opts out; the pod value is ignored
//	otherwise:                        pod "true"/"false" > namespace "false" > injected
//
// Only "true" and "false" (any case) mean something on a Pod: a Pod's "no" or "disabled" must not
// override its Namespace's opt-out, so other values are ignored with a warning.
func optedOut(o Options, r Request, forbidden bool, fs *findings) bool {
	key := o.AnnotationPrefix + KeyInject
	pod, podSet := nonEmpty(r.Pod.Annotations, key)
	ns, _ := nonEmpty(r.NamespaceAnnotations, key)
	podFalse, nsFalse := strings.EqualFold(pod, "false"), strings.EqualFold(ns, "false")
	if podSet && !podFalse && !strings.EqualFold(pod, "true") {
		fs.add(ReasonInvalidAnnotation, "", `%s %s on the pod is neither "true" nor "false" and was ignored`, key, quote(pod))
		podSet = false
	}
	nsOut := func() bool {
		fs.add(ReasonOptedOut, "", `%s is "false" on namespace %s; nothing injected`, key, quote(r.Namespace))
		return true
	}
	switch {
	case forbidden:
		if podSet && podFalse != nsFalse {
			forbiddenPodValue(o, r, key, pod, fs)
		}
		if nsFalse {
			return nsOut()
		}
		return false
	case podSet && podFalse:
		fs.add(ReasonOptedOut, "", `%s is "false" on the pod; nothing injected`, key)
		return true
	case podSet:
		return false
	case nsFalse:
		return nsOut()
	}
	return false
}

// forbiddenPodValue reports a Pod value ignored because the Namespace forbids overrides.
func forbiddenPodValue(o Options, r Request, key, pod string, fs *findings) {
	component := ""
	for _, c := range o.Components {
		if key == o.AnnotationPrefix+c.VersionKey {
			component = c.Name
		}
	}
	ns, nsSet := nonEmpty(r.NamespaceAnnotations, key)
	applies := "the server default applies"
	if nsSet {
		applies = "the namespace's " + quote(ns) + " applies"
	}
	fs.add(ReasonOverrideForbidden, component, `%s %s on the pod was ignored: namespace %s sets %s%s: "false", so %s`,
		key, quote(pod), quote(r.Namespace), o.AnnotationPrefix, KeyAllowPodOverride, applies)
}

func nonEmpty(m map[string]string, key string) (string, bool) {
	v, ok := m[key]
	return v, ok && v != ""
}
