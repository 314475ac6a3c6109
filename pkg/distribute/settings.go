package distribute

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/platform-tools/tilt-lib-injector/pkg/lookup"
)

// Labels and annotation suffixes the distributor reads and writes. Suffixes take the webhook's
// annotation prefix (--annotation-prefix, "tilt-lib.platform/").
const (
	// ManagedByLabel marks a copy we manage; the copy watch selects on it.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedBy is its value.
	ManagedBy = "tilt-lib-injector"
	// KeyDistribute, set to "true" on a ConfigMap of the source namespace, makes it a source.
	KeyDistribute = "distribute"
	// KeySourceNamespace labels a copy with the namespace of its source.
	KeySourceNamespace = "source-namespace"
	// KeyContentHash annotates a copy with Hash of the content it was written with.
	KeyContentHash = "content-hash"
	// KeyOrphanedAt annotates an orphaned copy with when it was found orphaned (RFC 3339).
	KeyOrphanedAt = "orphaned-at"
)

// Bounds. A ConfigMap is at most 1 MiB in etcd anyway; the source count bounds the writes of one
// resync (sources × namespaces) and the memory of the copy cache.
const (
	DefaultMaxSources     = 32
	MaxMaxSources         = 256
	DefaultMaxSourceBytes = 1 << 20
	DefaultGrace          = 24 * time.Hour
)

// AlwaysExcluded are namespaces never written, whatever the selector says: the webhook excludes
// them too (charts/tilt-lib-injector/templates/mutatingwebhook.yaml).
var AlwaysExcluded = []string{"kube-system", "kube-public", "kube-node-lease"}

// ErrInvalid is wrapped by every error of Settings.Validate.
var ErrInvalid = errors.New("invalid distribution settings")

// Settings are the distributor's fixed configuration, validated once.
type Settings struct {
	// Prefix is the webhook's annotation prefix (ends in "/").
	Prefix string
	// Bases are the ConfigMap base names (tilt-lib, tilt-templates), shared with the webhook.
	Bases []string
	// VersionLabel is the ConfigMap label holding the version, shared with the webhook.
	VersionLabel string
	// MarkerLabels are the label keys the webhook's --configmap-selector reads (the platform's
	// marker, e.g. tilt-lib.platform/published). They are copied from the source like the
	// version label, so a copy counts for the webhook exactly as its source does: without them
	// a webhook with a marker selector would treat every copy as absent.
	MarkerLabels []string
	// SourceNamespace holds the sources; it is never a target.
	SourceNamespace string
	// Selector picks the target namespaces; it must not be empty.
	Selector labels.Selector
	// Excluded namespaces are never targets (on top of AlwaysExcluded).
	Excluded []string
	// Grace is how long an orphaned copy is kept before it may be deleted.
	Grace time.Duration
	// MaxSources and MaxSourceBytes bound what is distributed.
	MaxSources     int
	MaxSourceBytes int
}

// Validate reports every problem at once.
func (s Settings) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...))
	}
	if s.Prefix == "" {
		bad("annotation prefix is empty")
	}
	if len(s.Bases) == 0 {
		bad("no ConfigMap base names")
	}
	if s.VersionLabel == "" {
		bad("version label is empty")
	}
	if s.SourceNamespace == "" {
		bad("--source-namespace is required")
	}
	if s.Selector == nil || s.Selector.Empty() {
		bad("--namespace-selector is required and must not be empty (to select every namespace, say so: e.g. kubernetes.io/metadata.name)")
	}
	if s.Grace < 0 {
		bad("--grace %s is negative", s.Grace)
	}
	if s.MaxSources < 1 || s.MaxSources > MaxMaxSources {
		bad("--max-sources %d must be between 1 and %d", s.MaxSources, MaxMaxSources)
	}
	if s.MaxSourceBytes < 1 || s.MaxSourceBytes > DefaultMaxSourceBytes {
		bad("--max-source-bytes %d must be between 1 and %d (a ConfigMap's limit)", s.MaxSourceBytes, DefaultMaxSourceBytes)
	}
	return errors.Join(errs...)
}

// ours reports whether name is named like one of our ConfigMaps. It is the webhook's own rule
// (pkg/lookup), so the two cannot disagree about which ConfigMaps are the library's.
func (s Settings) ours(name string) bool {
	return lookup.Settings{Bases: s.Bases}.Ours("", name)
}

// target reports whether a namespace with these labels receives copies.
func (s Settings) target(name string, l map[string]string) bool {
	if name == s.SourceNamespace {
		return false
	}
	for _, ex := range AlwaysExcluded {
		if name == ex {
			return false
		}
	}
	for _, ex := range s.Excluded {
		if name == ex {
			return false
		}
	}
	return s.Selector.Matches(labels.Set(l))
}

// IsSource reports whether cm (in the source namespace) is a source: labelled for distribution
// and named like ours. The controller's source informer selects on the label server-side.
func (s Settings) IsSource(labelsOf map[string]string, name string) bool {
	return labelsOf[s.Prefix+KeyDistribute] == "true" && s.ours(name)
}
