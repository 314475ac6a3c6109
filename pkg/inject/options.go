package inject

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Output formats.
const (
	// OutputYAML prints every document, mutated or not, as YAML separated by "---" lines.
	OutputYAML = "yaml"
	// OutputPatch prints one JSON object per line for each Pod or workload, naming it:
	// {"apiVersion":…,"kind":…,"namespace":…,"name":…,"patch":[…]} ("patch":[] when nothing is
	// added), the patch rooted at the object.
	OutputPatch = "patch"
)

// DefaultVersionLabel is the ConfigMap label that holds the semantic version.
const DefaultVersionLabel = "version"

// DefaultWorkspaceSelector selects Coder workspaces, as the chart's objectSelector does.
const DefaultWorkspaceSelector = "app.kubernetes.io/name=coder-workspace"

// Stdin is the file name that means "read the reader given to Run", as with kubectl.
const Stdin = "-"

// Options configures Run.
type Options struct {
	// Mutate is the server configuration the mutation runs with.
	Mutate mutate.Options
	// VersionLabel is the ConfigMap label holding the semantic version; "" means "version".
	VersionLabel string
	// WorkspaceSelector is a label selector (k8s.io/apimachinery/pkg/labels syntax); only Pods
	// (templates) whose labels match are mutated, the others pass through untouched. "" selects
	// every Pod.
	WorkspaceSelector string
	// ConfigMapSelector is the platform's marker (--configmap-selector, a label selector): only
	// ConfigMaps matching it exist, in --configmaps-file and in the input alike, as only those
	// reach the server's cache. "" (the default): every ConfigMap named like ours counts.
	ConfigMapSelector string
	// Filenames are the inputs, in order: files, directories (their .yaml, .yml and .json files)
	// and Stdin ("-", at most once) for the reader given to Run. Empty: only that reader.
	Filenames []string
	// Recursive makes directories in Filenames read their subdirectories too.
	Recursive bool
	// NamespaceFile optionally names a file of v1 Namespaces (YAML or JSON, other kinds ignored):
	// each object gets the annotations of its own namespace. It wins over a Namespace of the same
	// name found in the input. When it holds exactly one Namespace, that is the namespace of
	// objects that name none.
	NamespaceFile string
	// ConfigMapsFile optionally names the ConfigMaps that exist: a List, a ConfigMapList or a
	// multi-document stream; other kinds in it are ignored, but it must hold a ConfigMap or be an
	// empty List ("none exist"). A ConfigMap without a namespace exists in every namespace.
	// Without the file, the ConfigMaps of the input are those that exist in their namespaces, and
	// every ConfigMap exists (version unknown) in a namespace the input holds none of.
	ConfigMapsFile string
	// Output is OutputYAML (also "") or OutputPatch.
	Output string
	// InputName names the reader given to Run in messages when it is read as Stdin or because
	// Filenames is empty; "" means "input".
	InputName string
}

// DefaultOptions returns the product defaults.
func DefaultOptions() Options {
	return Options{Mutate: mutate.DefaultOptions(), VersionLabel: DefaultVersionLabel,
		WorkspaceSelector: DefaultWorkspaceSelector, Output: OutputYAML}
}

var (
	// ErrOutputFormat is returned for an Output other than "yaml" or "patch".
	ErrOutputFormat = errors.New("unknown output format")
	// ErrNoObjects is returned when the input holds no object at all.
	ErrNoObjects = errors.New("no objects in input")
	// ErrInvalidDocument is wrapped by every error about the content of a document, in the input
	// or in the Namespace or ConfigMaps file: not YAML or JSON, not a Kubernetes object, an object
	// that does not decode as its kind, or a file that holds none of the kind it is for.
	ErrInvalidDocument = errors.New("invalid document")
	// ErrSelector is returned for a WorkspaceSelector that does not parse.
	ErrSelector = errors.New("invalid workspace selector")
	// ErrConfigMapSelector is returned for a ConfigMapSelector that does not parse.
	ErrConfigMapSelector = errors.New("invalid ConfigMap selector")
	// ErrFilenames is returned when Filenames name Stdin more than once (it can be read once).
	ErrFilenames = errors.New("invalid -f")
)

func (o Options) withDefaults() Options {
	if o.VersionLabel == "" {
		o.VersionLabel = DefaultVersionLabel
	}
	if o.Output == "" {
		o.Output = OutputYAML
	}
	if o.InputName == "" {
		o.InputName = "input"
	}
	return o
}

// selectors are the parsed label selectors of Options.
type selectors struct {
	workspaces labels.Selector // WorkspaceSelector
	published  labels.Selector // ConfigMapSelector
}

// validate checks o and returns its parsed selectors.
func (o Options) validate() (selectors, error) {
	if o.Output != OutputYAML && o.Output != OutputPatch {
		return selectors{}, fmt.Errorf("%w %q: want %q or %q", ErrOutputFormat, o.Output, OutputYAML, OutputPatch)
	}
	ws, err := labels.Parse(o.WorkspaceSelector)
	if err != nil {
		return selectors{}, fmt.Errorf("%w %q: %w", ErrSelector, o.WorkspaceSelector, err)
	}
	pub, err := labels.Parse(o.ConfigMapSelector)
	if err != nil {
		return selectors{}, fmt.Errorf("%w %q: %w", ErrConfigMapSelector, o.ConfigMapSelector, err)
	}
	return selectors{ws, pub}, o.Mutate.Validate()
}
