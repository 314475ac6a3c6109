package inject

import (
	"fmt"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Reasons of the warnings inject prints itself; pkg/mutate's reasons explain the mutation. Every
// warning line ends with its reason, "(reason: namespace_unknown)", so that a script can match it.
const (
	// ReasonNoPodTemplate: a workload without a pod template; nothing injected, passed through.
	ReasonNoPodTemplate mutate.Reason = "no_pod_template"
	// ReasonNamespaceUnknown: Namespaces were given (--namespace-file or in the input), but not
	// the object's; its annotations are taken as none.
	ReasonNamespaceUnknown mutate.Reason = "namespace_unknown"
	// ReasonNamespaceOverridden: --namespace-file and the input both hold a Namespace of this name
	// with different annotations; the file's are used.
	ReasonNamespaceOverridden mutate.Reason = "namespace_overridden"
	// ReasonConfigMapMissing (mutate's reason) also says that a configured default or alias target
	// has no ConfigMap in any namespace of the known set.
	ReasonConfigMapMissing = mutate.ReasonConfigMapMissing
)

// warning renders one of inject's own warnings the way pkg/mutate renders its: prefixed with who
// speaks, suffixed with the reason.
func warning(r mutate.Reason, format string, args ...any) string {
	return fmt.Sprintf("%s%s (reason: %s)", mutate.WarningPrefix, fmt.Sprintf(format, args...), r)
}
