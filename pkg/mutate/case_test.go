package mutate_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/versions"
)

// Files of a golden case directory. Anything else in a case directory is an error, so a renamed
// or deleted case cannot leave stale goldens behind.
const (
	podFile        = "pod.yaml"
	namespaceFile  = "namespace.yaml"
	configMapsFile = "configmaps.yaml"
	optionsFile    = "options.yaml"
	versionsFile   = "versions.yaml"
	patchGolden    = "patch.golden.json"
	podGolden      = "pod.golden.yaml"
	resultGolden   = "result.golden.yaml"
)

var (
	caseInputs  = []string{podFile, namespaceFile, configMapsFile, optionsFile, versionsFile, expectFile}
	caseGoldens = []string{patchGolden, podGolden, resultGolden}
)

// defaultNamespace is the request namespace of a case whose pod.yaml names none.
const defaultNamespace = "team-a"

// caseOptions is options.yaml: overrides of mutate.DefaultOptions, keyed like the --config file
// (flag names), so a case reads the way an operator would configure the server. The settings of
// every component are keyed by its row: "<Flag>-configmap", "<Flag>-mount-path" and its
// DefaultVersionFlag. test-components appends rows of the test-only table (components_test.go).
type caseOptions struct {
	AnnotationPrefix *string
	Aliases          map[string]string
	Containers       *[]string
	Envbox           *mutate.EnvboxMode
	TestComponents   []string
	// settings are the component settings by key, checked against the rows by apply.
	settings map[string]string
}

// UnmarshalJSON decodes strictly: apply fails a key that sets nothing.
func (c *caseOptions) UnmarshalJSON(b []byte) error {
	*c = caseOptions{settings: map[string]string{}}
	return decodeObject(b, map[string]any{
		"annotation-prefix": &c.AnnotationPrefix,
		"alias":             &c.Aliases,
		"containers":        &c.Containers,
		"envbox":            &c.Envbox,
		"test-components":   &c.TestComponents,
	}, func(key string, v json.RawMessage) error {
		var s string
		err := json.Unmarshal(v, &s)
		c.settings[key] = s
		return err
	})
}

// decodeObject decodes a JSON object key by key: a key of fields strictly into its destination,
// any other through other.
func decodeObject(b []byte, fields map[string]any, other func(key string, v json.RawMessage) error) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for k, v := range raw {
		var err error
		if dst, ok := fields[k]; ok {
			err = strictJSON(v, dst)
		} else {
			err = other(k, v)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

// strictJSON decodes b into v, failing on a field v does not have.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (c caseOptions) apply(o *mutate.Options) error {
	for _, name := range c.TestComponents {
		i := slices.IndexFunc(testComponents, func(tc mutate.Component) bool { return tc.Name == name })
		if i < 0 {
			return fmt.Errorf("test-components: %q is not in the test-only table", name)
		}
		o.Components = append(o.Components, testComponents[i])
	}
	if err := mutate.ValidateTable(*o); err != nil {
		return fmt.Errorf("test-components: %w", err)
	}
	used := map[string]bool{}
	for i := range o.Components {
		comp := &o.Components[i]
		for key, dst := range map[string]*string{
			comp.Flag + "-configmap":                          &comp.Base,
			comp.Flag + "-mount-path":                         &comp.MountPath,
			strings.TrimPrefix(comp.DefaultVersionFlag, "--"): &comp.DefaultVersion,
		} {
			if v, ok := c.settings[key]; ok {
				*dst, used[key] = v, true
			}
		}
	}
	for key := range c.settings {
		if !used[key] {
			return fmt.Errorf("unknown key %q", key)
		}
	}
	if c.AnnotationPrefix != nil {
		o.AnnotationPrefix = *c.AnnotationPrefix
	}
	if c.Aliases != nil {
		o.Aliases = c.Aliases
	}
	if c.Containers != nil {
		o.Containers = *c.Containers
	}
	if c.Envbox != nil {
		o.Envbox = *c.Envbox
	}
	return nil
}

// goldenCase is one testdata/<case> directory, decoded.
type goldenCase struct {
	dir     string
	opts    mutate.Options
	req     mutate.Request
	podJSON []byte // json.Marshal of the input Pod: what the API server sends and patches
}

func loadCase(t *testing.T, dir string) goldenCase {
	t.Helper()
	gc := goldenCase{dir: dir, opts: mutate.DefaultOptions()}

	var pod corev1.Pod
	readYAML(t, filepath.Join(dir, podFile), &pod, true)
	gc.req.Pod = &pod
	gc.req.Namespace = pod.Namespace
	if gc.req.Namespace == "" {
		gc.req.Namespace = defaultNamespace
	}
	gc.podJSON = mustJSON(t, &pod)

	var ns corev1.Namespace
	if readYAML(t, filepath.Join(dir, namespaceFile), &ns, false) {
		if ns.Name != gc.req.Namespace {
			t.Fatalf("%s is %q but the pod is in %q", namespaceFile, ns.Name, gc.req.Namespace)
		}
		gc.req.NamespaceAnnotations = ns.Annotations
	}

	var co caseOptions
	if readYAML(t, filepath.Join(dir, optionsFile), &co, false) {
		if err := co.apply(&gc.opts); err != nil {
			t.Fatalf("%s: %v", optionsFile, err)
		}
	}
	if err := gc.opts.Validate(); err != nil {
		t.Fatalf("%s: %v", optionsFile, err)
	}
	// versions.yaml is a live versions document (docs/design.md), built and applied as a review
	// does: its aliases win over options.yaml's, its rollouts move choices.
	if b, err := os.ReadFile(filepath.Join(dir, versionsFile)); err == nil {
		snap, err := versions.Build(b, gc.opts)
		if err != nil {
			t.Fatalf("%s: %v", versionsFile, err)
		}
		snap.Apply(&gc.opts)
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}

	gc.req.ConfigMaps = loadConfigMaps(t, filepath.Join(dir, configMapsFile), gc.req.Namespace)
	return gc
}

// readYAML strictly decodes file into v (a typo in a fixture must not silently become a default);
// it reports false when an optional file is absent.
func readYAML(t *testing.T, file string, v any, required bool) bool {
	t.Helper()
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) && !required {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return true
}

// loadConfigMaps reads a v1 List or a multi-document stream of ConfigMaps into a MapLookup keyed
// by their version label. An absent file means every ConfigMap exists (as in `webhook inject`).
func loadConfigMaps(t *testing.T, file, namespace string) mutate.ConfigMapLookup {
	t.Helper()
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return mutate.AllExist{}
	}
	if err != nil {
		t.Fatal(err)
	}
	lookup := mutate.MapLookup{}
	addCM := func(raw []byte) {
		var cm corev1.ConfigMap
		if err := yaml.UnmarshalStrict(raw, &cm); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if cm.Kind != "ConfigMap" || cm.Name == "" {
			t.Fatalf("%s: want ConfigMaps, got kind %q name %q", file, cm.Kind, cm.Name)
		}
		ns := cm.Namespace
		if ns == "" {
			ns = namespace
		}
		lookup[ns+"/"+cm.Name] = cm.Labels["version"]
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var doc struct {
			Kind  string                 `json:"kind"`
			Items []runtime.RawExtension `json:"items"`
		}
		var raw runtime.RawExtension
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(raw.Raw) == 0 {
			continue // empty document between separators
		}
		if err := yaml.Unmarshal(raw.Raw, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if doc.Kind != "List" {
			addCM(raw.Raw)
			continue
		}
		for _, it := range doc.Items {
			addCM(it.Raw)
		}
	}
	return lookup
}
