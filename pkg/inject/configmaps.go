package inject

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

var _ mutate.ConfigMapLookup = configMaps{}

// configMaps is the mutate.ConfigMapLookup behind --configmaps-file.
type configMaps struct {
	// inNamespace maps namespace -> name -> version label.
	inNamespace map[string]map[string]string
	// everywhere holds the ConfigMaps that name no namespace: they exist in every namespace.
	everywhere map[string]string
}

// Lookup implements mutate.ConfigMapLookup. A ConfigMap of the namespace wins over one that names
// no namespace.
func (c configMaps) Lookup(namespace, name string) (bool, string) {
	if v, ok := c.inNamespace[namespace][name]; ok {
		return true, v
	}
	v, ok := c.everywhere[name]
	return ok, v
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

// loadConfigMaps reads the ConfigMaps of a List, a ConfigMapList or a multi-document stream;
// objects of other kinds are ignored, so the output of `kustomize build` can be used as is.
func loadConfigMaps(file, versionLabel string) (configMaps, error) {
	cms := configMaps{inNamespace: map[string]map[string]string{}, everywhere: map[string]string{}}
	data, err := os.ReadFile(file)
	if err != nil {
		return cms, fmt.Errorf("configmaps file: %w", err)
	}
	docs, err := readDocuments(file, bytes.NewReader(data))
	if err != nil {
		return cms, err
	}
	for _, d := range docs {
		p := position{file: file, doc: d.index}
		h, err := parseHeader(p, d.json)
		if err != nil {
			return cms, err
		}
		items, isList := listItems(h, d.json)
		if !isList {
			items = []json.RawMessage{d.json}
		}
		for i, js := range items {
			if isList {
				p.item = i + 1
			}
			if err := cms.addObject(p, js, versionLabel); err != nil {
				return cms, err
			}
		}
	}
	return cms, nil
}

func (c configMaps) addObject(p position, js []byte, versionLabel string) error {
	h, err := parseHeader(p, js)
	if err != nil {
		return err
	}
	if h.group() != "" || h.Kind != "ConfigMap" {
		return nil
	}
	var cm struct {
		Metadata struct {
			Name      string            `json:"name"`
			Namespace string            `json:"namespace"`
			Labels    map[string]string `json:"labels"`
		} `json:"metadata"`
	}
	if err := utiljson.Unmarshal(js, &cm); err != nil {
		return p.invalid("ConfigMap does not decode", err)
	}
	if cm.Metadata.Name == "" {
		return p.invalid("ConfigMap has no metadata.name", nil)
	}
	c.add(cm.Metadata.Namespace, cm.Metadata.Name, cm.Metadata.Labels[versionLabel])
	return nil
}
