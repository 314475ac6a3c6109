package mutate

// ConfigMapLookup tells Mutate which ConfigMaps exist in a namespace and which semantic version
// each carries (its version label). The server backs it with an informer cache, `webhook inject`
// with a file, tests with a map. Implementations must be cheap: Mutate calls Lookup up to three
// times per component per Pod, on the admission path.
type ConfigMapLookup interface {
	// Lookup reports whether ConfigMap name exists in namespace and the value of its version
	// label ("" when the label is absent).
	Lookup(namespace, name string) (exists bool, version string)
}

// AllExist is the lookup used when nothing is known about ConfigMaps: every one exists, version
// unknown. `webhook inject` uses it without --configmaps-file.
type AllExist struct{}

// Lookup implements ConfigMapLookup.
func (AllExist) Lookup(string, string) (bool, string) { return true, "" }

// MapLookup is a ConfigMapLookup over a fixed set: "namespace/name" -> version label.
type MapLookup map[string]string

// Lookup implements ConfigMapLookup.
func (m MapLookup) Lookup(namespace, name string) (bool, string) {
	v, ok := m[namespace+"/"+name]
	return ok, v
}
