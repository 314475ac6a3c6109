package versions

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/rollout"
)

// Validate checks every rule of docs/design.md ("The versions document") against the server's
// options o (its components and its static --alias flags) and returns every broken one, each
// naming its field, joined into one error wrapping ErrInvalid; nil when d is valid.
func Validate(d Document, o mutate.Options) error {
	v := &validator{}
	v.aliases(d.Aliases)
	in := effectiveAliases(o.Aliases, d.Aliases)
	if len(d.Rollouts) > MaxRollouts {
		v.add("rollouts: %d rollouts, above the bound of %d (MaxRollouts)", len(d.Rollouts), MaxRollouts)
	}
	names := map[string]int{}
	owner := map[[2]string]string{} // component, alias -> rollout
	for i, r := range d.Rollouts {
		at := fmt.Sprintf("rollouts[%d]", i)
		if r.Name != "" {
			at += " (" + r.Name + ")"
		}
		v.rollout(at, r, in, o)
		if j, dup := names[r.Name]; dup && r.Name != "" {
			v.add("%s: name %q is also rollouts[%d]'s", at, r.Name, j)
		}
		names[r.Name] = i
		for _, c := range components(r, o) {
			k := [2]string{c, r.From}
			if other, dup := owner[k]; dup && r.From != "" {
				v.add("%s: component %s through alias %q is also moved by rollout %q: two rollouts on one component and alias", at, c, r.From, other)
				continue
			}
			owner[k] = r.Name
		}
	}
	return v.err()
}

type validator struct{ errs []error }

func (v *validator) add(format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...))
}

func (v *validator) err() error { return errors.Join(v.errs...) }

func (v *validator) aliases(a map[string]string) {
	if len(a) > MaxAliases {
		v.add("aliases: %d aliases, above the bound of %d (MaxAliases)", len(a), MaxAliases)
	}
	for _, name := range slices.Sorted(maps.Keys(a)) {
		if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 || name == mutate.DefaultVersionName {
			v.add("aliases: name %q must be a DNS-1123 label (at most 63 characters) other than %q", name, mutate.DefaultVersionName)
		}
		if to := a[name]; to != mutate.DefaultVersionName {
			if msgs := validation.IsDNS1123Label(to); len(msgs) > 0 {
				v.add("aliases: %s: version %q must be a DNS-1123 label (at most 63 characters) or %q", name, to, mutate.DefaultVersionName)
			}
		}
	}
}

func (v *validator) rollout(at string, r Rollout, aliases map[string]string, o mutate.Options) {
	if msgs := validation.IsDNS1123Label(r.Name); len(msgs) > 0 || len(r.Name) > MaxRolloutName {
		v.add("%s: name %q must be a DNS-1123 label of at most %d characters (MaxRolloutName)", at, r.Name, MaxRolloutName)
	}
	if _, ok := aliases[r.From]; !ok {
		v.add("%s: from %q must be an alias (of the document's aliases or an --alias flag)", at, r.From)
	}
	if msgs := validation.IsDNS1123Label(r.To); len(msgs) > 0 {
		v.add("%s: to %q must be a version: a DNS-1123 label of at most 63 characters", at, r.To)
	}
	switch {
	case !r.Percent.set:
		v.add("%s: percent is required (a quoted decimal string, like \"10\")", at)
	case r.Percent.err != nil:
		v.add("%s: %v", at, r.Percent.err)
	}
	if len(r.Salt) > MaxSalt {
		v.add("%s: salt is %d characters, above the bound of %d (MaxSalt)", at, len(r.Salt), MaxSalt)
	}
	if r.Key != "" && r.Key != rollout.KeyWorkspace && r.Key != rollout.KeyUser {
		v.add("%s: key %q must be %q or %q", at, r.Key, rollout.KeyWorkspace, rollout.KeyUser)
	}
	seen := map[string]bool{}
	for _, c := range r.Components {
		if !slices.ContainsFunc(o.Components, func(k mutate.Component) bool { return k.Name == c }) {
			v.add("%s: component %q is not one of %s", at, c, strings.Join(componentNames(o), ", "))
		}
		if seen[c] {
			v.add("%s: component %q is listed twice", at, c)
		}
		seen[c] = true
	}
	if len(r.Namespaces) > MaxNamespaces {
		v.add("%s: namespaces: %d entries, above the bound of %d (MaxNamespaces)", at, len(r.Namespaces), MaxNamespaces)
	}
	for _, ns := range r.Namespaces {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			v.add("%s: namespaces: %q is not a namespace name (a DNS-1123 label of at most 63 characters)", at, ns)
		}
	}
}

// components are the component names r moves: its list, or every component.
func components(r Rollout, o mutate.Options) []string {
	if len(r.Components) > 0 {
		return r.Components
	}
	return componentNames(o)
}

func componentNames(o mutate.Options) []string {
	names := make([]string, len(o.Components))
	for i, c := range o.Components {
		names[i] = c.Name
	}
	return names
}

// effectiveAliases are the aliases in force: the static ones, the document winning for a name it
// defines. The result is a new map.
func effectiveAliases(static, doc map[string]string) map[string]string {
	out := make(map[string]string, len(static)+len(doc))
	maps.Copy(out, static)
	maps.Copy(out, doc)
	return out
}
