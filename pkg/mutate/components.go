package mutate

// Volume names are fixed by the product contract (docs/design.md); ConfigMap base names and mount
// paths are configurable.
const (
	LibVolume       = "tilt-lib"
	TemplatesVolume = "tilt-templates"
)

// Component is one row of the component table: everything that tells one injected component from
// another. Everything that handles components iterates over Options.Components: the mutation and
// its record and labels, Validate, Targets, the adoption gauges, the admission log, `webhook
// inject`. Adding a component is adding a row to productComponents; outside this package only its
// three settings (pkg/config's flags and the chart's values) are written by hand, and
// pkg/config's tests fail until they are.
type Component struct {
	// Name is the volume name, the component's key in the injected record and the value of the
	// component label of the metrics and Events: "tilt-lib".
	Name string
	// VersionKey, after the annotation prefix, is the annotation read from the Pod and its
	// Namespace and the label written on the Pod: "version".
	VersionKey string
	// Flag names the component's settings: --<Flag>-configmap, --<Flag>-mount-path.
	Flag string
	// DefaultVersionFlag is the setting of DefaultVersion: "--default-version".
	DefaultVersionFlag string
	// LogPrefix prefixes the component's keys in the admission log, in camelCase ("templates":
	// templatesVersion); "" keeps the house keys (version, source).
	LogPrefix string
	// ComponentOptions are the operator's settings; the product table holds their defaults.
	ComponentOptions
}

// ComponentOptions are the settings of one component.
type ComponentOptions struct {
	// Base is the ConfigMap base name: unversioned "tilt-lib", pinned "tilt-lib-<version>".
	Base string
	// MountPath is where the ConfigMap is mounted read-only in every target container.
	MountPath string
	// DefaultVersion is the server default; empty selects the unversioned ConfigMap. It may name an
	// alias.
	DefaultVersion string
}

// productComponents is the component table of the product, in the order volumes, mounts and
// record entries are written (docs/design.md). It returns a fresh slice: Options own their table.
func productComponents() []Component {
	return []Component{
		{Name: LibVolume, VersionKey: KeyVersion, Flag: "lib", DefaultVersionFlag: "--default-version",
			ComponentOptions: ComponentOptions{Base: "tilt-lib", MountPath: "/apps/tilt-lib"}},
		{Name: TemplatesVolume, VersionKey: KeyTemplatesVersion, Flag: "templates", DefaultVersionFlag: "--default-templates-version",
			LogPrefix: "templates", ComponentOptions: ComponentOptions{Base: "tilt-templates", MountPath: "/apps/template"}},
	}
}

// Component returns the row of the component named name (a volume name), nil when there is none.
// The row is o's own: setting its fields configures o.
func (o *Options) Component(name string) *Component {
	for i := range o.Components {
		if o.Components[i].Name == name {
			return &o.Components[i]
		}
	}
	return nil
}

// Bases returns the ConfigMap base name of every component, in table order: the names (and their
// "<base>-<version>" forms) that are ours.
func (o Options) Bases() []string {
	bases := make([]string, len(o.Components))
	for i, c := range o.Components {
		bases[i] = c.Base
	}
	return bases
}
