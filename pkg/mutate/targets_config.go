package mutate

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Target is a ConfigMap the server configuration itself names: a server default version or an
// alias target. A typo there (--default-version stabel) would otherwise mount an empty optional
// volume into every workspace without a word, so `serve` and `webhook inject` check each Target
// against the ConfigMaps they know (MissingTargets); this is the one place that says which names
// those are.
type Target struct {
	// Flag is the setting: a component's DefaultVersionFlag ("--default-version") or "--alias".
	Flag string
	// Name is the alias name, empty for a default; Value is what the setting holds.
	Name, Value string
	// ConfigMaps are the names the setting stands for, resolved as Mutate resolves them; any one
	// of them existing satisfies it (an alias may be published for one component only).
	ConfigMaps []string
	// Versioned is false when the setting resolves to the unversioned base ConfigMap(s).
	Versioned bool
	// MountPath is where a default's ConfigMap is mounted; empty for an alias.
	MountPath string
}

// Targets returns the defaults (in table order) and the aliases in name order.
func (o Options) Targets() []Target {
	var ts []Target
	for _, c := range o.Components {
		cand := o.defaultCandidate(c)
		ts = append(ts, Target{Flag: c.DefaultVersionFlag, Value: c.DefaultVersion, ConfigMaps: []string{cand.configMap},
			Versioned: cand.label != DefaultVersionName, MountPath: c.MountPath})
	}
	for _, name := range slices.Sorted(maps.Keys(o.Aliases)) {
		t := Target{Flag: "--alias", Name: name, Value: o.Aliases[name]}
		for _, c := range o.Components {
			base := c.Base
			if v := o.alias(name); v != "" {
				base, t.Versioned = base+"-"+v, true
			}
			t.ConfigMaps = append(t.ConfigMaps, base)
		}
		ts = append(ts, t)
	}
	return ts
}

// MissingTargets returns one warning per Target none of whose ConfigMaps exists; in says where
// they were looked for ("any namespace", "any namespace of cms.yaml"). `serve` (once its
// ConfigMap store has synced) and `webhook inject` (when it knows ConfigMaps) both warn with it,
// so the preview warns as the server will.
//
// Every Target is checked, a default that resolves to the unversioned base ConfigMap too: the
// base name is a setting (--lib-configmap) as easily mistyped as a version, and the base is what
// every unpinned workspace mounts, so a base in no namespace empties the mount of the most
// workspaces. Were it skipped, `--lib-configmap tilt-lbi` would start without a word.
func (o Options) MissingTargets(exists func(configMap string) bool, in string) []string {
	var warnings []string
	for _, t := range o.Targets() {
		if !slices.ContainsFunc(t.ConfigMaps, exists) {
			warnings = append(warnings, t.missing(in))
		}
	}
	return warnings
}

// AmongMarked narrows in, the "where" of MissingTargets, to the ConfigMaps matching selector
// (--configmap-selector) when there is one: right after the selector is turned on, an unmarked
// ConfigMap is a likelier cause of the warning than a typo. serve and inject both use it.
func AmongMarked(in, selector string) string {
	if selector == "" {
		return in
	}
	return fmt.Sprintf("%s among the ConfigMaps matching --configmap-selector %q", in, selector)
}

// missing words the warning of a Target whose ConfigMaps are in none of in.
func (t Target) missing(in string) string {
	if t.Name == "" {
		return fmt.Sprintf("%s %q: no ConfigMap %q in %s; until one exists, workspaces get an empty %s (a typo?)",
			t.Flag, t.Value, t.ConfigMaps[0], in, t.MountPath)
	}
	// An alias names a version of every component, and a team may publish one component only:
	// only an alias that matches none of them is reported.
	return fmt.Sprintf("%s %s=%s: %s in %s (a typo?)", t.Flag, t.Name, t.Value, noneOf(t.ConfigMaps), in)
}

// noneOf says that none of the ConfigMaps names exists: `no ConfigMap "a"`, `neither ConfigMap
// "a" nor "b"`, `none of the ConfigMaps "a", "b", "c"`.
func noneOf(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	switch len(q) {
	case 1:
		return "no ConfigMap " + q[0]
	case 2:
		return "neither ConfigMap " + q[0] + " nor " + q[1]
	}
	return "none of the ConfigMaps " + strings.Join(q, ", ")
}
