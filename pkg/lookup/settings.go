package lookup

import "strings"

// Settings say what the caches keep.
type Settings struct {
	// AnnotationPrefix: the Namespace annotations kept.
	AnnotationPrefix string
	// Bases are the ConfigMap base names (tilt-lib, tilt-templates): "<base>" and "<base>-<v>"
	// are kept.
	Bases []string
	// VersionLabel is the ConfigMap label kept.
	VersionLabel string
	// ConfigMapSelector is a label selector (--configmap-selector, the platform's marker) our
	// ConfigMaps must match. The API server applies it to the list and the watch, so a ConfigMap
	// without the marker is never sent, let alone kept: to the decision it does not exist. A
	// ConfigMap that loses the marker is a deletion on the watch, one that gains it an addition.
	// Empty: every ConfigMap named like ours. It must parse (pkg/config checks).
	ConfigMapSelector string
	// OwnNamespace is the injector's own namespace (--service-namespace, the chart's release
	// namespace). It is never a workspace namespace, and the chart keeps ConfigMaps there whose
	// names start with a base name (tilt-lib-injector-dashboard, -client-ca, -versions): none of
	// them is a tilt-lib version, so no ConfigMap there is ours. Empty: no namespace is excluded.
	OwnNamespace string
}

// Ours reports whether the ConfigMap namespace/name is one of ours: named after one of the
// configured bases, and not in the injector's own namespace.
func (s Settings) Ours(namespace, name string) bool {
	if s.OwnNamespace != "" && namespace == s.OwnNamespace {
		return false
	}
	for _, b := range s.Bases {
		if name == b || strings.HasPrefix(name, b+"-") {
			return true
		}
	}
	return false
}
