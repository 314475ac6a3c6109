package mutate

import (
	"maps"
	"slices"
)

// Target is a ConfigMap the server configuration itself names: a server default version or an
// alias target. A typo there (--default-version stabel) would otherwise mount an empty optional
// volume into every workspace without a word, so `serve` and `webhook inject` check each Target
// against the ConfigMaps they know; this is the one place that says which names those are.
type Target struct {
	// Flag is the setting: "--default-version", "--default-templates-version" or "--alias".
	Flag string
	// Name is the alias name (for --alias); Value is what the setting holds.
	Name, Value string
	// ConfigMaps are the names the setting stands for, resolved as Mutate resolves them; any one
	// of them existing satisfies it (an alias may be published for one component only).
	ConfigMaps []string
	// Versioned is false when the setting resolves to the unversioned base ConfigMap(s).
	Versioned bool
	// MountPath is where a default's ConfigMap is mounted; empty for an alias.
	MountPath string
}

// Targets returns the defaults (tilt-lib, then tilt-templates) and the aliases in name order.
func (o Options) Targets() []Target {
	c := o.components()
	var ts []Target
	for i, flag := range []string{"--default-version", "--default-templates-version"} {
		cand := o.defaultCandidate(c[i])
		ts = append(ts, Target{Flag: flag, Value: c[i].DefaultVersion, ConfigMaps: []string{cand.configMap},
			Versioned: cand.label != DefaultVersionName, MountPath: c[i].MountPath})
	}
	for _, name := range slices.Sorted(maps.Keys(o.Aliases)) {
		t := Target{Flag: "--alias", Name: name, Value: o.Aliases[name]}
		for _, comp := range c {
			base := comp.ConfigMap
			if v := o.alias(name); v != "" {
				base, t.Versioned = base+"-"+v, true
			}
			t.ConfigMaps = append(t.ConfigMaps, base)
		}
		ts = append(ts, t)
	}
	return ts
}
