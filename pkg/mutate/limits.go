package mutate

import apivalidation "k8s.io/apimachinery/pkg/api/validation"

// Bounds on the work one Pod can cause. A Pod is up to ~1.5 MiB of developer-controlled input on
// the path of every workspace start; each bound keeps Mutate linear in the Pod's size and its
// output (patch, warnings, Findings) small, whatever the input. Exceeding a bound never loses the
// Pod: the excess is ignored and a warning says so.
const (
	// MaxContainers is how many containers (in spec order) are considered for targeting and
	// mounting; the rest are never touched (too_many_containers).
	MaxContainers = 256
	// MaxContainersAnnotationBytes and MaxContainersAnnotationNames bound the containers
	// annotation (comma-separated entries, empty ones included). Beyond either, the annotation is
	// ignored as a whole (invalid_annotation) and the default targeting applies.
	MaxContainersAnnotationBytes = 1024
	MaxContainersAnnotationNames = 32
	// MaxWarnings is how many distinct warnings are returned; the rest are summarised in one more
	// warning ("N more warnings not shown (reason: warnings_truncated)"). Findings keep all reasons.
	MaxWarnings = 10
	// MaxAnnotationsBytes is the API server's limit on a Pod's annotations (keys plus values);
	// the patch never pushes a Pod over it (annotations_too_large).
	MaxAnnotationsBytes = apivalidation.TotalAnnotationSizeLimitB
	// MaxQuotedBytes is how many bytes of one developer-supplied string a warning or an Event
	// quotes (Truncate).
	MaxQuotedBytes = 64
)
