package inject

import (
	"maps"
	"slices"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// missingTargets warns about every configured default version and alias target whose ConfigMap is
// in no namespace of known: most likely a typo (--default-version stabel), which would otherwise
// mount an empty optional volume everywhere without a word. Versioned ConfigMaps are named
// <base>-<version>, as in pkg/mutate; "default" and "" mean the unversioned base, which is not
// configured by anyone and so not checked here. where names the known set in the message.
func missingTargets(o mutate.Options, known configMaps, where string) []string {
	version := func(v string) string {
		if a, ok := o.Aliases[v]; ok {
			v = a
		}
		if v == mutate.DefaultVersionName {
			return ""
		}
		return v
	}
	var warnings []string
	for _, c := range []struct {
		flag string
		mutate.ComponentOptions
	}{{"--default-version", o.Lib}, {"--default-templates-version", o.Templates}} {
		v := version(c.DefaultVersion)
		if v == "" {
			continue
		}
		if name := c.ConfigMap + "-" + v; !known.existsAnywhere(name) {
			warnings = append(warnings, warning(ReasonConfigMapMissing,
				"%s %q: ConfigMap %q not found in any namespace of %s", c.flag, c.DefaultVersion, name, where))
		}
	}
	// An alias names a version of both components; a team may publish only one of them, so only
	// an alias that matches neither is reported.
	for _, alias := range slices.Sorted(maps.Keys(o.Aliases)) {
		v := o.Aliases[alias]
		if v == "" || v == mutate.DefaultVersionName {
			continue
		}
		lib, templates := o.Lib.ConfigMap+"-"+v, o.Templates.ConfigMap+"-"+v
		if !known.existsAnywhere(lib) && !known.existsAnywhere(templates) {
			warnings = append(warnings, warning(ReasonConfigMapMissing,
				"--alias %s=%s: neither ConfigMap %q nor %q found in any namespace of %s", alias, v, lib, templates, where))
		}
	}
	return warnings
}
