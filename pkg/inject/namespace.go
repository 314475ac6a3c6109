package inject

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// fallbackNamespace is the namespace of an object that names none, as with kubectl, unless the
// Namespace file holds exactly one Namespace.
const fallbackNamespace = "default"

// nsInfo is one Namespace that was given.
type nsInfo struct {
	annotations map[string]string
	from        string // where it was read, for messages: "ns.yaml" or "a.yaml document 2"
}

// namespaces are the Namespaces Run knows, by name.
//
// Precedence for a name: --namespace-file > a Namespace in the input. The file is the explicit
// statement of what the cluster has (or will have); the input may hold an older copy. When both
// hold the name with different annotations, a namespace_overridden warning says so.
type namespaces struct {
	byName   map[string]nsInfo
	fallback string // namespace of objects that name none
}

// namespaceOf is the namespace an object is created in.
func (n namespaces) namespaceOf(objectNamespace string) string {
	if objectNamespace != "" {
		return objectNamespace
	}
	return n.fallback
}

// loadNamespaces gathers the Namespaces of the Namespace file and of the input; it returns the
// warnings about Namespaces the file overrides.
func loadNamespaces(file string, input []parsed) (namespaces, []string, error) {
	n := namespaces{byName: map[string]nsInfo{}, fallback: fallbackNamespace}
	fromInput, err := collectNamespaces(input, func(it item) string { return fmt.Sprintf("%s document %s", it.p.file, it.p.number()) })
	if err != nil {
		return n, nil, err
	}
	maps.Copy(n.byName, fromInput)
	if file == "" {
		return n, nil, nil
	}
	docs, err := readObjects("namespace file", file)
	if err != nil {
		return n, nil, err
	}
	fromFile, err := collectNamespaces(docs, func(item) string { return file })
	if err != nil {
		return n, nil, err
	}
	if len(fromFile) == 0 {
		return n, nil, fmt.Errorf("%s: %w: holds no v1 Namespace", file, ErrInvalidDocument)
	}
	var warnings []string
	for _, name := range slices.Sorted(maps.Keys(fromFile)) {
		ns := fromFile[name]
		if in, ok := fromInput[name]; ok && !maps.Equal(in.annotations, ns.annotations) {
			warnings = append(warnings, warning(ReasonNamespaceOverridden,
				"namespace %q: the annotations of %s are used, not those of %s", name, file, in.from))
		}
		n.byName[name] = ns
		if len(fromFile) == 1 {
			n.fallback = name
		}
	}
	return n, warnings, nil
}

// collectNamespaces returns the v1 Namespaces among docs by name; a name given twice is an error.
func collectNamespaces(docs []parsed, from func(item) string) (map[string]nsInfo, error) {
	found := map[string]nsInfo{}
	for _, d := range docs {
		for _, it := range d.items {
			if !it.h.is("Namespace") {
				continue
			}
			var ns corev1.Namespace
			if err := utiljson.Unmarshal(it.json, &ns); err != nil {
				return nil, it.p.invalid("Namespace does not decode", err)
			}
			if ns.Name == "" {
				return nil, it.p.invalid("Namespace has no metadata.name", nil)
			}
			if prev, dup := found[ns.Name]; dup {
				return nil, it.p.invalid(fmt.Sprintf("Namespace %q is also in %s", ns.Name, prev.from), nil)
			}
			found[ns.Name] = nsInfo{annotations: ns.Annotations, from: from(it)}
		}
	}
	return found, nil
}
