package mutate

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Volume names are fixed by the product contract (docs/design.md); ConfigMap base names and mount paths
// are configurable.
const (
	LibVolume       = "tilt-lib"
	TemplatesVolume = "tilt-templates"
)

// Annotation keys (after the prefix) read from the Pod and its Namespace, and written to the Pod.
const (
	KeyVersion          = "version"
	KeyTemplatesVersion = "templates-version"
	KeyInject           = "inject"
	KeyContainers       = "containers"
	KeyAllowPodOverride = "allow-pod-override"
	KeyStatus           = "status"
	KeyInjected         = "injected"
)

// DefaultVersionName is the annotation value that selects the server default explicitly.
const DefaultVersionName = "default"

// ComponentOptions configures one injected component.
type ComponentOptions struct {
	// ConfigMap is the base name: unversioned "tilt-lib", pinned "tilt-lib-<version>".
	ConfigMap string
	// MountPath is where the ConfigMap is mounted read-only in every target container.
	MountPath string
	// DefaultVersion is the server default; empty selects the unversioned ConfigMap. It may name an
	// alias.
	DefaultVersion string
}

// Options is everything Mutate needs to know about the server's configuration.
type Options struct {
	// AnnotationPrefix prefixes every annotation and label read or written, e.g. "tilt-lib.platform/".
	AnnotationPrefix string
	Lib              ComponentOptions
	Templates        ComponentOptions
	// Aliases maps a version name to a version ("stable" -> "v2"); "default" as a target means the
	// server default. Aliases are resolved once, not recursively.
	Aliases map[string]string
	// Containers are the default target container names when the Pod does not name any.
	Containers []string
}

// DefaultOptions returns the product defaults of docs/design.md.
func DefaultOptions() Options {
	return Options{
		AnnotationPrefix: "tilt-lib.platform/",
		Lib:              ComponentOptions{ConfigMap: "tilt-lib", MountPath: "/apps/tilt-lib"},
		Templates:        ComponentOptions{ConfigMap: "tilt-templates", MountPath: "/apps/template"},
		Containers:       []string{"dev"},
	}
}

// ErrInvalidOptions is wrapped by every error Validate returns.
var ErrInvalidOptions = errors.New("invalid options")

// Validate reports every problem with o at once, so a misconfigured server fails at start with the
// full list instead of one error per restart.
func (o Options) Validate() error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...))
	}
	prefix := strings.TrimSuffix(o.AnnotationPrefix, "/")
	if prefix == "" || !strings.HasSuffix(o.AnnotationPrefix, "/") {
		add("annotation prefix %q must be a DNS subdomain followed by '/'", o.AnnotationPrefix)
	} else if msgs := validation.IsDNS1123Subdomain(prefix); len(msgs) > 0 {
		add("annotation prefix %q: %s", o.AnnotationPrefix, strings.Join(msgs, "; "))
	}
	for name, a := range o.Aliases {
		if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 || name == DefaultVersionName {
			add("alias name %q must be a DNS-1123 label other than %q", name, DefaultVersionName)
		}
		if a != DefaultVersionName && a != "" {
			if msgs := validation.IsDNS1123Label(a); len(msgs) > 0 {
				add("alias %s=%s: version must be a DNS-1123 label: %s", name, a, strings.Join(msgs, "; "))
			}
		}
	}
	paths := map[string]string{}
	for _, c := range []struct {
		flag string
		c    ComponentOptions
	}{{"lib", o.Lib}, {"templates", o.Templates}} {
		if msgs := validation.IsDNS1123Subdomain(c.c.ConfigMap); len(msgs) > 0 {
			add("--%s-configmap %q is not a valid ConfigMap name: %s", c.flag, c.c.ConfigMap, strings.Join(msgs, "; "))
		}
		if !path.IsAbs(c.c.MountPath) || path.Clean(c.c.MountPath) != c.c.MountPath || c.c.MountPath == "/" {
			add("--%s-mount-path %q must be a clean absolute path other than /", c.flag, c.c.MountPath)
		} else if other, dup := paths[c.c.MountPath]; dup {
			add("--%s-mount-path %q is also the %s mount path", c.flag, c.c.MountPath, other)
		}
		paths[c.c.MountPath] = c.flag
		if v := o.alias(c.c.DefaultVersion); v != "" {
			if msgs := validation.IsDNS1123Label(v); len(msgs) > 0 {
				add("default %s version %q must be a DNS-1123 label: %s", c.flag, c.c.DefaultVersion, strings.Join(msgs, "; "))
			} else if msgs := validation.IsDNS1123Subdomain(c.c.ConfigMap + "-" + v); len(msgs) > 0 {
				add("default %s version %q gives an invalid ConfigMap name: %s", c.flag, c.c.DefaultVersion, strings.Join(msgs, "; "))
			}
		}
	}
	if o.Lib.ConfigMap == o.Templates.ConfigMap {
		add("--lib-configmap and --templates-configmap are both %q", o.Lib.ConfigMap)
	}
	// Versioned ConfigMaps are "<base>-<version>": if one base is the other plus "-", a version of
	// one names a ConfigMap of the other ("tilt-lib" + "templates-v9" = "tilt-lib-templates-v9").
	for _, pair := range [][2]string{{o.Lib.ConfigMap, o.Templates.ConfigMap}, {o.Templates.ConfigMap, o.Lib.ConfigMap}} {
		if strings.HasPrefix(pair[1], pair[0]+"-") {
			add("ConfigMap base names %q and %q overlap: a version of %q would name a ConfigMap of %q",
				pair[0], pair[1], pair[0], pair[1])
		}
	}
	for _, c := range o.Containers {
		if msgs := validation.IsDNS1123Label(c); len(msgs) > 0 {
			add("container name %q: %s", c, strings.Join(msgs, "; "))
		}
	}
	return errors.Join(errs...)
}

// alias maps an alias to its version; "default" and "" mean the unversioned ConfigMap here.
func (o Options) alias(v string) string {
	if a, ok := o.Aliases[v]; ok {
		v = a
	}
	if v == DefaultVersionName {
		return ""
	}
	return v
}

// component is one injected component with everything derived from Options.
type component struct {
	name       string // volume name and key in the injected annotation
	versionKey string // annotation key (without prefix) and label key (without prefix)
	ComponentOptions
}

func (o Options) components() [2]component {
	return [2]component{
		{name: LibVolume, versionKey: KeyVersion, ComponentOptions: o.Lib},
		{name: TemplatesVolume, versionKey: KeyTemplatesVersion, ComponentOptions: o.Templates},
	}
}
