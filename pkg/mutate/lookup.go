package mutate

// ConfigMapLookup tells Mutate which ConfigMaps exist in a namespace and which semantic version
// each carries (its version label). The server backs it with an informer cache, `webhook inject`
// with a file, tests with a map. Implementations must be cheap: Mutate calls Version up to three
// times per component per Pod, on the admission path.
type ConfigMapLookup interface {
	// Version returns the version label of ConfigMap name in namespace ("" when the label is
	// absent); exists is false when there is no such ConfigMap. The order is a map read's, as
	// pkg/lookup's ConfigMapStore.Get.
	Version(namespace, name string) (version string, exists bool)
}

// AllExist is the lookup used when nothing is known about ConfigMaps: every one exists, version
// unknown. `webhook inject` uses it without --configmaps-file.
type AllExist struct{}

// Version implements ConfigMapLookup.
func (AllExist) Version(string, string) (string, bool) { return "", true }

// MapLookup is a ConfigMapLookup over a fixed set: "namespace/name" -> version label.
type MapLookup map[string]string

// Version implements ConfigMapLookup.
func (m MapLookup) Version(namespace, name string) (string, bool) {
	v, ok := m[namespace+"/"+name]
	return v, ok
}
