package versions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"sigs.k8s.io/yaml"

	"github.com/platform-tools/tilt-lib-injector/pkg/rollout"
)

// Key is the ConfigMap key holding the document.
const Key = "versions.yaml"

// Bounds of a document. Every one is refused with a message naming it.
const (
	// MaxDocumentBytes bounds the document (the ConfigMap itself may hold 1 MiB): 16 rollouts and
	// their allow-lists fit many times over.
	MaxDocumentBytes = 64 << 10
	// MaxRollouts bounds the rollouts section: each is a metric label value and a bucket per Pod.
	MaxRollouts = 16
	// MaxAliases bounds the aliases section.
	MaxAliases = 64
	// MaxRolloutName bounds a rollout's name (a DNS label, and a metric label value).
	MaxRolloutName = 40
	// MaxSalt bounds a rollout's salt.
	MaxSalt = 253
	// MaxNamespaces bounds a rollout's namespace allow-list.
	MaxNamespaces = 256
)

// ErrInvalid is wrapped by every error Parse and Validate return.
var ErrInvalid = errors.New("invalid versions document")

// Document is the versions document as written.
type Document struct {
	// Aliases map a version name to a version ("stable": "v2"), as --alias does; the document
	// wins for a name it defines.
	Aliases map[string]string `json:"aliases,omitempty"`
	// Rollouts move a share of the workspaces from an alias's version to another.
	Rollouts []Rollout `json:"rollouts,omitempty"`
}

// Rollout is one sticky canary rollout.
type Rollout struct {
	// Name is a DNS label of at most MaxRolloutName characters, unique in the document.
	Name string `json:"name"`
	// From is the alias whose workspaces move: it must be an alias in force.
	From string `json:"from"`
	// To is the version the canary gets.
	To string `json:"to"`
	// Components are the component names moved together (one bucket for all); default: every
	// component.
	Components []string `json:"components,omitempty"`
	// Percent is the share of workspaces in the canary.
	Percent Percent `json:"percent"`
	// Salt reshuffles the buckets when changed; default: Name.
	Salt string `json:"salt,omitempty"`
	// Key is what identifies a workspace: rollout.KeyWorkspace (default) or rollout.KeyUser.
	Key string `json:"key,omitempty"`
	// Namespaces, when set, is the only namespaces the rollout applies in.
	Namespaces []string `json:"namespaces,omitempty"`
}

// Spec is what of the rollout places a Pod in an arm (pkg/rollout), its defaults filled in: the
// salt is the name when unset, the key the workspace when unset.
func (r Rollout) Spec() rollout.Spec {
	s := rollout.Spec{Salt: r.Salt, Key: r.Key, Basis: r.Percent.Basis, Namespaces: r.Namespaces}
	if s.Salt == "" {
		s.Salt = r.Name
	}
	if s.Key == "" {
		s.Key = rollout.KeyWorkspace
	}
	return s
}

// Percent is a share written as a quoted decimal string, 0 to 100 with at most 2 decimals
// ("10", "0.5", "99.99"): a string, so no float rounding stands between what is written and
// which workspaces are in.
type Percent struct {
	// Text is the string as written.
	Text string
	// Basis is the share in hundredths of a percent, 0 to 10000: a workspace whose bucket is below
	// Basis is in the canary.
	Basis int
	set   bool
	err   error // why Text is not a percent: Validate reports it with the document's other errors
}

var percentRE = regexp.MustCompile(`^(0|[1-9][0-9]{0,2})(\.[0-9]{1,2})?$`)

// ParsePercent reads a percent string.
func ParsePercent(s string) (Percent, error) {
	m := percentRE.FindStringSubmatch(s)
	if m == nil {
		return Percent{}, fmt.Errorf("percent %q must be a decimal from 0 to 100 with at most 2 decimals, like \"10\" or \"0.5\"", s)
	}
	whole, _ := strconv.Atoi(m[1]) // at most 3 digits: cannot fail
	frac := 0
	if m[2] != "" {
		d := m[2][1:]
		if len(d) == 1 {
			d += "0"
		}
		frac, _ = strconv.Atoi(d)
	}
	basis := whole*100 + frac
	if basis > 10000 {
		return Percent{}, fmt.Errorf("percent %q is above 100", s)
	}
	return Percent{Text: s, Basis: basis, set: true}, nil
}

// UnmarshalJSON refuses anything but a string (an unquoted 10.5 would be a float); a string that
// is not a percent is kept for Validate to report with every other error.
func (p *Percent) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '"' {
		return fmt.Errorf("percent %s must be a quoted decimal string, like \"10\"", b)
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("percent: %w", err)
	}
	v, err := ParsePercent(s)
	if err != nil {
		v = Percent{Text: s, set: true, err: err}
	}
	*p = v
	return nil
}

// MarshalJSON writes the string as written.
func (p Percent) MarshalJSON() ([]byte, error) { return json.Marshal(p.Text) }

// Parse reads a document strictly: over MaxDocumentBytes, a YAML error, an unknown or duplicate
// field, or a value of the wrong type is refused. It does not Validate. Empty data (or only
// comments) is the empty document.
func Parse(data []byte) (Document, error) {
	var d Document
	if len(data) > MaxDocumentBytes {
		return d, fmt.Errorf("%w: %d bytes, above the bound of %d bytes (MaxDocumentBytes)", ErrInvalid, len(data), MaxDocumentBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return d, nil
	}
	if err := yaml.UnmarshalStrict(data, &d); err != nil {
		return Document{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return d, nil
}
