package inject

import (
	"errors"
	"fmt"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Output formats.
const (
	// OutputYAML prints every document, mutated or not, as YAML separated by "---" lines.
	OutputYAML = "yaml"
	// OutputPatch prints one JSON patch per Pod or workload, one per line ("[]" when nothing is
	// added), each rooted at its object.
	OutputPatch = "patch"
)

// DefaultVersionLabel is the ConfigMap label that holds the semantic version.
const DefaultVersionLabel = "version"

// Options configures Run.
type Options struct {
	// Mutate is the server configuration the mutation runs with.
	Mutate mutate.Options
	// VersionLabel is the ConfigMap label holding the semantic version; "" means "version".
	VersionLabel string
	// NamespaceFile optionally names a v1 Namespace (YAML or JSON) whose annotations apply to every
	// object; its name is the namespace of objects that name none.
	NamespaceFile string
	// ConfigMapsFile optionally names the ConfigMaps that exist: a List, a ConfigMapList or a
	// multi-document stream; other kinds in it are ignored. A ConfigMap without a namespace exists
	// in every namespace. Without the file every ConfigMap exists, version unknown.
	ConfigMapsFile string
	// Output is OutputYAML (also "") or OutputPatch.
	Output string
	// InputName names the input in error messages (the -f path); "" means "input".
	InputName string
}

// DefaultOptions returns the product defaults of DESIGN.md.
func DefaultOptions() Options {
	return Options{Mutate: mutate.DefaultOptions(), VersionLabel: DefaultVersionLabel, Output: OutputYAML}
}

var (
	// ErrOutputFormat is returned for an Output other than "yaml" or "patch".
	ErrOutputFormat = errors.New("unknown output format")
	// ErrNoObjects is returned when the input holds no object at all.
	ErrNoObjects = errors.New("no objects in input")
	// ErrInvalidDocument is wrapped by every error about the content of a document, in the input
	// or in the Namespace or ConfigMaps file: not YAML or JSON, not a Kubernetes object, or an
	// object that does not decode as its kind.
	ErrInvalidDocument = errors.New("invalid document")
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

func (o Options) validate() error {
	if o.Output != OutputYAML && o.Output != OutputPatch {
		return fmt.Errorf("%w %q: want %q or %q", ErrOutputFormat, o.Output, OutputYAML, OutputPatch)
	}
	return o.Mutate.Validate()
}
