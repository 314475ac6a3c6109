package inject

import (
	"bytes"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// namespace is what the Namespace file says; the zero value means no file.
type namespace struct {
	file        string
	name        string
	annotations map[string]string
}

// loadNamespace reads the one v1 Namespace of a file (YAML or JSON). Other kinds in the file are
// ignored, so the team's whole kustomize output or examples file can be passed as it is.
func loadNamespace(file string) (namespace, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return namespace{}, fmt.Errorf("namespace file: %w", err)
	}
	docs, err := readDocuments(file, bytes.NewReader(data))
	if err != nil {
		return namespace{}, err
	}
	var found []namespace
	for _, d := range docs {
		p := position{file: file, doc: d.index}
		h, err := parseHeader(p, d.json)
		if err != nil {
			return namespace{}, err
		}
		if h.group() != "" || h.Kind != "Namespace" {
			continue
		}
		var ns corev1.Namespace
		if err := utiljson.Unmarshal(d.json, &ns); err != nil {
			return namespace{}, p.invalid("Namespace does not decode", err)
		}
		found = append(found, namespace{file: file, name: ns.Name, annotations: ns.Annotations})
	}
	if len(found) != 1 {
		return namespace{}, fmt.Errorf("%s: %w: holds %d v1 Namespaces, want exactly one", file, ErrInvalidDocument, len(found))
	}
	return found[0], nil
}
