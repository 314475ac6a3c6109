package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ApplyDir creates every object of the *.yaml files in dir, files in lexical order and documents
// in file order (so Namespaces listed first exist before what lives in them), like
// `kubectl create -f dir`. It returns the objects as stored.
func (inj *Injector) ApplyDir(ctx context.Context, dir string) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	sort.Strings(files)
	c, err := client.New(inj.Config, client.Options{})
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	var out []*unstructured.Unstructured
	for _, f := range files {
		objs, err := readObjects(f)
		if err != nil {
			return out, err
		}
		for _, o := range objs {
			if err := c.Create(ctx, o); err != nil {
				return out, fmt.Errorf("creating %s %s/%s from %s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), f, err)
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// readObjects decodes every non-empty YAML document of file.
func readObjects(file string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("decoding %s: %w", file, err)
		}
		if len(obj) == 0 {
			continue // an empty document between two "---"
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			return nil, fmt.Errorf("%s: a document without apiVersion/kind", file)
		}
		out = append(out, u)
	}
}
