package explain

import (
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Result is the verdict of one row.
type Result string

const (
	// OK: this layer does what the workspace needs (√).
	OK Result = "ok"
	// Warning: it works, but not the way the owner probably expects (‼): a fallback, an ignored
	// override, a Pod still running an older choice.
	Warning Result = "warning"
	// Error: this layer is why the workspace does not get the library (×).
	Error Result = "error"
)

// Mark is the symbol of the table form.
func (r Result) Mark() string {
	switch r {
	case OK:
		return "√"
	case Warning:
		return "‼"
	}
	return "×"
}

// Layers, the stable names of the rows (the "layer" of the JSON form). A component's rows are
// "<component> version", "<component> configmap" and, when the distributor manages copies of its
// ConfigMap elsewhere, "<component> distribution".
const (
	LayerRegistration      = "registration"
	LayerNamespaceSelector = "namespace selector"
	LayerObjectSelector    = "object selector"
	LayerOptOut            = "opt-out"
	LayerOverride          = "override"
	LayerTargets           = "targets"
	LayerConflicts         = "conflicts"
	LayerRecorded          = "recorded"
	LayerStragglers        = "stragglers"
	LayerServer            = "server"
	suffixVersion          = " version"
	suffixConfigMap        = " configmap"
	suffixDistribution     = " distribution"
)

// Check is one row.
type Check struct {
	Layer string `json:"layer"`
	// Description says what the row checks, the same for every subject.
	Description string `json:"description"`
	Result      Result `json:"result"`
	Detail      string `json:"detail"`
	// Hint says what to do about a ‼ or ×; empty on √.
	Hint string `json:"hint,omitempty"`
}

// Subject names what was explained.
type Subject struct {
	// Kind is "pod", a workload kind in lower case ("deployment"), "namespace", "new" (a
	// hypothetical workspace Pod) or "file".
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name,omitempty"`
}

// Decision is what the webhook decides for the subject now: mutate.Mutate's Result, per
// component.
type Decision struct {
	// Selected is false when a selector keeps the webhook from seeing the Pod: the rest is what
	// it would get if it were selected.
	Selected bool `json:"selected"`
	// Status is the status annotation the Pod would get: "injected" or "skipped:<reason>".
	Status     string              `json:"status"`
	Components []ComponentDecision `json:"components"`
	// Containers are the target containers carrying at least one component.
	Containers []string `json:"containers"`
	// Steps is the trace of the decision (mutate.Trace), in the order taken: override lock,
	// opt-out, targets, then per component each level tried, aliases, ConfigMaps, fallback,
	// rollout, conflicts.
	Steps []mutate.Step `json:"steps"`
}

// ComponentDecision is the choice for one component.
type ComponentDecision struct {
	Component string `json:"component"`
	// Mounted: the Pod carries the component after the patch.
	Mounted   bool          `json:"mounted"`
	ConfigMap string        `json:"configMap,omitempty"`
	Label     string        `json:"label,omitempty"`
	Requested string        `json:"requested,omitempty"`
	Version   string        `json:"version,omitempty"`
	Source    mutate.Source `json:"source,omitempty"`
	// Exists: the ConfigMap is in the Pod's namespace.
	Exists bool `json:"exists"`
}

// Recorded is what an admitted Pod carries from its admission.
type Recorded struct {
	// Status is the status annotation; empty when the webhook never saw the Pod.
	Status string         `json:"status"`
	Record *mutate.Record `json:"record"`
}

// Report is the answer for one subject.
type Report struct {
	Subject  Subject   `json:"subject"`
	Checks   []Check   `json:"checks"`
	Decision Decision  `json:"decision"`
	Recorded *Recorded `json:"recorded"`
}

// SchemaVersion is the version of the JSON form; it changes only if a field changes meaning.
const SchemaVersion = 1

// Exit codes of `webhook explain`.
const (
	ExitOK      = 0
	ExitUsage   = 1
	ExitError   = 3
	ExitWarning = 4
)

// ExitCode is 3 when any row is ×; else 4 when strict and any row is ‼; else 0.
func ExitCode(reports []Report, strict bool) int {
	warn := false
	for _, r := range reports {
		for _, c := range r.Checks {
			switch c.Result {
			case Error:
				return ExitError
			case Warning:
				warn = true
			}
		}
	}
	if warn && strict {
		return ExitWarning
	}
	return ExitOK
}
