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

// loadNamespace reads a file holding exactly one v1 Namespace, as YAML or JSON.
func loadNamespace(file string) (namespace, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return namespace{}, fmt.Errorf("namespace file: %w", err)
	}
	docs, err := readDocuments(file, bytes.NewReader(data))
	if err != nil {
		return namespace{}, err
	}
	if len(docs) != 1 {
		return namespace{}, fmt.Errorf("%s: %w: holds %d objects, want one Namespace", file, ErrInvalidDocument, len(docs))
	}
	p := position{file: file, doc: docs[0].index}
	h, err := parseHeader(p, docs[0].json)
	if err != nil {
		return namespace{}, err
	}
	if h.group() != "" || h.Kind != "Namespace" {
		return namespace{}, p.invalid(fmt.Sprintf("a %s %s, want a v1 Namespace", h.APIVersion, h.Kind), nil)
	}
	var ns corev1.Namespace
	if err := utiljson.Unmarshal(docs[0].json, &ns); err != nil {
		return namespace{}, p.invalid("Namespace does not decode", err)
	}
	return namespace{file: file, name: ns.Name, annotations: ns.Annotations}, nil
}
