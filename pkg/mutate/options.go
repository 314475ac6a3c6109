package mutate

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
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

// RequestedKeyPrefix makes a component's second label: after the annotation prefix,
// RequestedKeyPrefix + VersionKey ("requested-version", "requested-templates-version") is the
// version the Pod asked for, next to VersionKey's label, the ConfigMap it mounts (docs/design.md,
// "Annotations and labels").
const RequestedKeyPrefix = "requested-"

// DefaultVersionName is the annotation value that selects the server default explicitly.
const DefaultVersionName = "default"

// Options is everything Mutate needs to know about the server's configuration.
type Options struct {
	// AnnotationPrefix prefixes every annotation and label read or written, e.g. "tilt-lib.platform/".
	AnnotationPrefix string
	// Components is the component table (components.go), one row per injected component, in the
	// order their volumes, mounts and record entries are written. It is a slice: a copy of Options
	// shares it, so change the rows of a fresh DefaultOptions only.
	Components []Component
	// Aliases maps a version name to a version ("stable" -> "v2"); "default" as a target means the
	// server default. Aliases are resolved once, not recursively.
	Aliases map[string]string
	// Rollouts are the sticky canary rollouts in force (rollout.go), validated by pkg/versions;
	// a review reads them from the same snapshot as Aliases.
	Rollouts []Rollout
	// Containers are the default target container names when the Pod does not name any.
	Containers []string
	// Envbox says which target containers run Coder's envbox (envbox.go): their CODER_MOUNTS
	// lists the components they carry, so envbox's inner container sees them too.
	Envbox EnvboxMode
}

// DefaultOptions returns the product defaults of docs/design.md.
func DefaultOptions() Options {
	return Options{
		AnnotationPrefix: "tilt-lib.platform/",
		Components:       productComponents(),
		Containers:       []string{"dev"},
		Envbox:           EnvboxAuto,
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
	if err := validEnvboxMode(o.Envbox); err != nil {
		add("--envbox: %v", err)
	}
	paths := map[string]string{}
	for _, c := range o.Components {
		if msgs := validation.IsDNS1123Subdomain(c.Base); len(msgs) > 0 {
			add("--%s-configmap %q is not a valid ConfigMap name: %s", c.Flag, c.Base, strings.Join(msgs, "; "))
		}
		if !path.IsAbs(c.MountPath) || path.Clean(c.MountPath) != c.MountPath || c.MountPath == "/" {
			add("--%s-mount-path %q must be a clean absolute path other than /", c.Flag, c.MountPath)
		} else if other, dup := paths[c.MountPath]; dup {
			add("--%s-mount-path %q is also the %s mount path", c.Flag, c.MountPath, other)
		}
		paths[c.MountPath] = c.Flag
		if o.Envbox != EnvboxOff && strings.ContainsAny(c.MountPath, ",:") {
			// CODER_MOUNTS is ','-separated items of ':'-separated tokens: no way to list it.
			add("--%s-mount-path %q holds ',' or ':', which CODER_MOUNTS cannot list; use another path or --envbox=off", c.Flag, c.MountPath)
		}
		if v := o.alias(c.DefaultVersion); v != "" {
			if msgs := validation.IsDNS1123Label(v); len(msgs) > 0 {
				add("default %s version %q must be a DNS-1123 label: %s", c.Flag, c.DefaultVersion, strings.Join(msgs, "; "))
			} else if msgs := validation.IsDNS1123Subdomain(c.Base + "-" + v); len(msgs) > 0 {
				add("default %s version %q gives an invalid ConfigMap name: %s", c.Flag, c.DefaultVersion, strings.Join(msgs, "; "))
			}
		}
	}
	for i, a := range o.Components {
		for _, b := range o.Components[i+1:] {
			if a.Base == b.Base {
				add("--%s-configmap and --%s-configmap are both %q", a.Flag, b.Flag, a.Base)
			}
		}
	}
	// Versioned ConfigMaps are "<base>-<version>": if one base is another plus "-", a version of
	// one names a ConfigMap of the other ("tilt-lib" + "templates-v9" = "tilt-lib-templates-v9").
	for _, a := range o.Components {
		for _, b := range o.Components {
			if strings.HasPrefix(b.Base, a.Base+"-") {
				add("ConfigMap base names %q and %q overlap: a version of %q would name a ConfigMap of %q",
					a.Base, b.Base, a.Base, b.Base)
			}
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
