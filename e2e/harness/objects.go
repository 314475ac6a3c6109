package harness

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// ReadObjects decodes every object of a YAML file, as ApplyDir reads them: for a test that
// creates a file's objects itself (changing some on the way).
func ReadObjects(file string) ([]*unstructured.Unstructured, error) { return readObjects(file) }
