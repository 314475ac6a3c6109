package inject

import (
	"slices"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// missingTargets warns about every configured default version and alias target
// (mutate.Options.Targets) whose ConfigMap is in no namespace of known: most likely a typo
// (--default-version stabel), which would otherwise mount an empty optional volume everywhere
// without a word. Targets that resolve to the unversioned base are not configured by anyone and
// so not checked here. where names the known set in the message.
func missingTargets(o mutate.Options, known configMaps, where string) []string {
	var warnings []string
	for _, t := range o.Targets() {
		if !t.Versioned || slices.ContainsFunc(t.ConfigMaps, known.existsAnywhere) {
			continue
		}
		if t.Flag == "--alias" {
			// An alias names a version of both components; a team may publish only one of them,
			// so only an alias that matches neither is reported.
			warnings = append(warnings, warning(ReasonConfigMapMissing,
				"--alias %s=%s: neither ConfigMap %q nor %q found in any namespace of %s", t.Name, t.Value, t.ConfigMaps[0], t.ConfigMaps[1], where))
			continue
		}
		warnings = append(warnings, warning(ReasonConfigMapMissing,
			"%s %q: ConfigMap %q not found in any namespace of %s", t.Flag, t.Value, t.ConfigMaps[0], where))
	}
	return warnings
}
