package inject

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

var (
	_ mutate.ConfigMapLookup = configMaps{}
	_ mutate.ConfigMapLookup = inputConfigMaps{}
)

// configMaps is a set of ConfigMaps: the lookup behind --configmaps-file.
type configMaps struct {
	// inNamespace maps namespace -> name -> version label.
	inNamespace map[string]map[string]string
	// everywhere holds the ConfigMaps that name no namespace: they exist in every namespace.
	everywhere map[string]string
}

func newConfigMaps() configMaps {
	return configMaps{inNamespace: map[string]map[string]string{}, everywhere: map[string]string{}}
}

// Version implements mutate.ConfigMapLookup. A ConfigMap of the namespace wins over one that
// names no namespace.
func (c configMaps) Version(namespace, name string) (string, bool) {
	if v, ok := c.inNamespace[namespace][name]; ok {
		return v, true
	}
	v, ok := c.everywhere[name]
	return v, ok
}

// missingTargets warns, as serve does at start, about every configured default version and alias
// target (mutate.Options.MissingTargets) whose ConfigMap is in no namespace of known; where says
// where they were looked for.
func missingTargets(o mutate.Options, known configMaps, where string) []string {
	missing := o.MissingTargets(known.existsAnywhere, where)
	for i, m := range missing {
		missing[i] = warning(ReasonConfigMapMissing, "%s", m)
	}
	return missing
}

// existsAnywhere reports whether a ConfigMap of this name is in any namespace of the set.
func (c configMaps) existsAnywhere(name string) bool {
	if _, ok := c.everywhere[name]; ok {
		return true
	}
	for _, cms := range c.inNamespace {
		if _, ok := cms[name]; ok {
			return true
		}
	}
	return false
}

func (c configMaps) add(namespace, name, version string) {
	if namespace == "" {
		c.everywhere[name] = version
		return
	}
	if c.inNamespace[namespace] == nil {
		c.inNamespace[namespace] = map[string]string{}
	}
	c.inNamespace[namespace][name] = version
}

// inputConfigMaps is the lookup when --configmaps-file is not given. In a namespace for which the
// input holds a ConfigMap named like ours (a base name, or a base name and a version), the
// input's ConfigMaps are all that exist, as after applying the input to an empty namespace. In any
// other namespace nothing is known, so every ConfigMap exists, version unknown: an application's
// own ConfigMaps in a `kustomize build` say nothing about the platform's, synced separately.
type inputConfigMaps struct {
	configMaps
	known map[string]bool // namespaces whose tilt-lib ConfigMaps the input holds
}

// Version implements mutate.ConfigMapLookup.
func (c inputConfigMaps) Version(namespace, name string) (string, bool) {
	if !c.known[namespace] {
		return "", true
	}
	return c.configMaps.Version(namespace, name)
}

// loadConfigMaps reads the ConfigMaps of a List, a ConfigMapList or a multi-document stream;
// objects of other kinds are ignored, so the output of `kustomize build` can be used as is. A file
// with no ConfigMap is an error unless it is an empty List: it more likely names the wrong file
// than says that no ConfigMap exists. Only ConfigMaps matching published (the platform's marker)
// exist, as only those reach the server's cache.
func loadConfigMaps(file, versionLabel string, published labels.Selector) (configMaps, error) {
	cms := newConfigMaps()
	docs, err := readObjects("configmaps file", file)
	if err != nil {
		return cms, err
	}
	found, emptyList := 0, false
	for _, d := range docs {
		emptyList = emptyList || (d.list && len(d.items) == 0)
		for _, it := range d.items {
			if !it.h.is("ConfigMap") {
				continue
			}
			m, err := configMapMeta(it)
			if err != nil {
				return cms, err
			}
			found++
			if published.Matches(labels.Set(m.Labels)) {
				cms.add(m.Namespace, m.Name, m.Labels[versionLabel])
			}
		}
	}
	if found == 0 && !emptyList {
		return cms, fmt.Errorf("%s: %w: holds no v1 ConfigMap (to say that none exist, give an empty List: {\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[]})",
			file, ErrInvalidDocument)
	}
	return cms, nil
}

// collectConfigMaps returns the ConfigMaps of the input, each in the namespace it would be
// created in, and whether any is named like ours. A ConfigMap that does not match published (the
// platform's marker) does not exist, as for the server; named like ours, it still makes its
// namespace one whose ConfigMaps the input holds: the server, too, would find ours absent there.
func collectConfigMaps(input []parsed, ns namespaces, o Options, published labels.Selector) (inputConfigMaps, bool, error) {
	cms := inputConfigMaps{newConfigMaps(), map[string]bool{}}
	for _, d := range input {
		for _, it := range d.items {
			if !it.h.is("ConfigMap") {
				continue
			}
			m, err := configMapMeta(it)
			if err != nil {
				return cms, false, err
			}
			namespace := ns.namespaceOf(m.Namespace)
			if published.Matches(labels.Set(m.Labels)) {
				cms.add(namespace, m.Name, m.Labels[o.VersionLabel])
			}
			if ours(o.Mutate, m.Name) {
				cms.known[namespace] = true
			}
		}
	}
	return cms, len(cms.known) > 0, nil
}

// ours reports whether a ConfigMap is named like one the mutation may mount.
func ours(o mutate.Options, name string) bool {
	for _, base := range o.Bases() {
		if name == base || strings.HasPrefix(name, base+"-") {
			return true
		}
	}
	return false
}

func configMapMeta(it item) (objectMeta, error) {
	m, err := metadata(it.json)
	if err != nil {
		return m, it.p.invalid("ConfigMap does not decode", err)
	}
	if m.Name == "" {
		return m, it.p.invalid("ConfigMap has no metadata.name", nil)
	}
	return m, nil
}
