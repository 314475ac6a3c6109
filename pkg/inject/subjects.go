package inject

import (
	"fmt"
	"io"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Subject is one Pod or workload of the input, as `webhook explain -f` explains it: the Pod
// (template) the mutation would see, in the namespace it would be created in.
type Subject struct {
	// Kind is the object's kind in lower case ("pod", "deployment"); Name its name.
	Kind, Name string
	// Namespace is the namespace it is created in; NamespaceAnnotations that Namespace's
	// annotations, nil when the Namespace was not given.
	Namespace            string
	NamespaceAnnotations map[string]string
	// Pod is the Pod, or the workload's template as a Pod.
	Pod *corev1.Pod
}

// Loaded is what Read found: the subjects, and the ConfigMaps known.
type Loaded struct {
	Subjects []Subject
	// ConfigMaps answers which ConfigMaps exist, as Run's lookup does, and where each is.
	ConfigMaps KnownConfigMaps
}

// KnownConfigMaps is the ConfigMap lookup of the input (or of ConfigMapsFile), which can also
// say in which namespaces a name exists.
type KnownConfigMaps struct {
	mutate.ConfigMapLookup
	known *configMaps // nil when every ConfigMap exists (nothing is known)
}

// Namespaces returns the namespaces known to hold a ConfigMap of this name, sorted; "*" stands
// for a ConfigMap that names no namespace (it exists in all).
func (k KnownConfigMaps) Namespaces(name string) []string {
	if k.known == nil {
		return nil
	}
	var out []string
	if _, ok := k.known.everywhere[name]; ok {
		out = append(out, "*")
	}
	for ns, cms := range k.known.inNamespace {
		if _, ok := cms[name]; ok {
			out = append(out, ns)
		}
	}
	slices.Sort(out)
	return out
}

// Read reads o.Filenames (stdin when there are none) with Run's bounds and readers, and returns
// every Pod and workload with a pod template, with the Namespaces and ConfigMaps Run would use.
// Output is ignored.
func Read(o Options, stdin io.Reader) (Loaded, error) {
	o = o.withDefaults()
	o.Output = OutputYAML
	var l Loaded
	sel, err := o.validate()
	if err != nil {
		return l, err
	}
	srcs, err := o.readInputs(stdin)
	if err != nil {
		return l, err
	}
	docs, err := parseAll(srcs)
	if err != nil {
		return l, err
	}
	e, _, err := o.newEnv(sel, docs)
	if err != nil {
		return l, err
	}
	l.ConfigMaps = knownOf(e.configMaps)
	for _, d := range docs {
		for _, it := range d.items {
			path, ok := podPath(it.h)
			if !ok {
				continue
			}
			m, err := metadata(it.json)
			if err != nil {
				return l, it.p.invalid(it.h.Kind+" does not decode", err)
			}
			site, found, err := podAt(it.json, path)
			if err != nil {
				return l, it.p.invalid(it.h.Kind+" does not decode", err)
			}
			if !found {
				continue
			}
			ns := e.ns.namespaceOf(m.Namespace)
			l.Subjects = append(l.Subjects, Subject{Kind: strings.ToLower(it.h.Kind), Name: m.Name, Namespace: ns,
				NamespaceAnnotations: e.ns.byName[ns].annotations, Pod: site.pod})
		}
	}
	if len(l.Subjects) == 0 {
		return l, fmt.Errorf("%w: no Pod or workload with a pod template", ErrNoObjects)
	}
	return l, nil
}

func knownOf(l mutate.ConfigMapLookup) KnownConfigMaps {
	switch c := l.(type) {
	case configMaps:
		return KnownConfigMaps{c, &c}
	case inputConfigMaps:
		return KnownConfigMaps{c, &c.configMaps}
	}
	return KnownConfigMaps{ConfigMapLookup: l}
}
