package mutate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/platform-tools/tilt-lib-injector/pkg/rollout"
)

// Record is the JSON of the injected annotation (docs/design.md): for each carried component,
// keyed by its Name in table order, the ConfigMap mounted; then the target containers that carry
// at least one component:
//
//	{"tilt-lib":{"configMap":"tilt-lib-v2","version":"2.0.1","source":"namespace"},"tilt-templates":{…},"containers":["dev"]}
//
// A component a rollout applied to also records it, after "source":
// "rollout":{"name":"tilt-lib-v3","arm":"canary","bucket":412,"threshold":1000}.
//
// and "envbox":true before "containers" when an envbox container's CODER_MOUNTS lists them.
//
// This is its one definition: the e2e harness and the CLI tests read it with this type. Only
// pkg/mutate's oracle test (oracle_test.go) writes the shape down again, on purpose.
type Record struct {
	// Components are the carried components, in table order.
	Components []RecordEntry
	// Envbox: some container's CODER_MOUNTS lists a carried component for envbox's inner
	// container (envbox.go). Written only when true.
	Envbox bool
	// Containers are the target containers carrying at least one component, in Pod order.
	Containers []string
}

// RecordEntry is one component of a Record.
type RecordEntry struct {
	// Component is the component's Name: its key in the JSON object.
	Component string
	RecordComponent
}

// RecordComponent is what a Record says about one component.
type RecordComponent struct {
	ConfigMap string `json:"configMap"`
	// Version is the ConfigMap's version label; empty when unknown.
	Version string `json:"version"`
	Source  Source `json:"source"`
	// Rollout is the rollout that placed the component, when one applied; written only then.
	Rollout *RecordRollout `json:"rollout,omitempty"`
}

// RecordRollout is a component's rollout entry: which rollout, which arm, and the bucket and
// threshold that decided it (bucket -1 without a key), so a Pod shows why it got its arm.
type RecordRollout struct {
	Name      string      `json:"name"`
	Arm       rollout.Arm `json:"arm"`
	Bucket    int         `json:"bucket"`
	Threshold int         `json:"threshold"`
}

// recordContainers and recordEnvbox are the keys of Record.Containers and Record.Envbox; no row
// of the component table takes them.
const (
	recordContainers = "containers"
	recordEnvbox     = "envbox"
)

// Component returns what r records about the named component; nil when it is not recorded.
func (r Record) Component(name string) *RecordComponent {
	for i := range r.Components {
		if r.Components[i].Component == name {
			return &r.Components[i].RecordComponent
		}
	}
	return nil
}

// MarshalJSON writes the components in order, then the containers, byte for byte as
// encoding/json writes a struct of them. It builds the bytes directly: on the admission path
// encoding/json's reflection and boxing would cost more allocations than the rest of the record.
func (r Record) MarshalJSON() ([]byte, error) {
	n := len(`{"envbox":true,"containers":[]}`)
	for _, e := range r.Components {
		n += len(`"":{"configMap":"","version":"","source":""},`) + len(e.Component) + len(e.ConfigMap) + len(e.Version) + len(e.Source)
		if e.Rollout != nil {
			n += len(`,"rollout":{"name":"","arm":"","bucket":-1,"threshold":10000}`) + len(e.Rollout.Name) + len(e.Rollout.Arm)
		}
	}
	for _, c := range r.Containers {
		n += len(c) + len(`"",`)
	}
	b := make([]byte, 0, n) // exact unless a string needs escaping
	b = append(b, '{')
	for _, e := range r.Components {
		b = appendString(b, e.Component)
		b = append(b, `:{"configMap":`...)
		b = appendString(b, e.ConfigMap)
		b = append(b, `,"version":`...)
		b = appendString(b, e.Version)
		b = append(b, `,"source":`...)
		b = appendString(b, string(e.Source))
		if ro := e.Rollout; ro != nil {
			b = append(b, `,"rollout":{"name":`...)
			b = appendString(b, ro.Name)
			b = append(b, `,"arm":`...)
			b = appendString(b, string(ro.Arm))
			b = append(b, `,"bucket":`...)
			b = strconv.AppendInt(b, int64(ro.Bucket), 10)
			b = append(b, `,"threshold":`...)
			b = strconv.AppendInt(b, int64(ro.Threshold), 10)
			b = append(b, '}')
		}
		b = append(b, "},"...)
	}
	if r.Envbox {
		b = append(b, `"`+recordEnvbox+`":true,`...)
	}
	b = append(b, `"`+recordContainers+`":`...)
	if r.Containers == nil {
		return append(b, "null}"...), nil
	}
	b = append(b, '[')
	for i, c := range r.Containers {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, c)
	}
	return append(b, "]}"...), nil
}

// appendString appends s as encoding/json writes it. Names the API server validates (ConfigMaps,
// versions, sources) hold nothing to escape and go in as they are; anything else (a container name
// is not validated before admission) goes through encoding/json itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// UnmarshalJSON reads a record strictly: a JSON object whose keys are component names (each once)
// and "containers", with no unknown field inside a component.
func (r *Record) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("the injected record is not a JSON object")
	}
	*r = Record{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("the injected record: %w", err)
		}
		key, _ := t.(string) // object keys are strings
		switch {
		case key == recordContainers:
			err = dec.Decode(&r.Containers)
		case key == recordEnvbox:
			err = dec.Decode(&r.Envbox)
		case r.Component(key) != nil:
			err = fmt.Errorf("component %q recorded twice", key)
		default:
			var c RecordComponent
			err = dec.Decode(&c)
			r.Components = append(r.Components, RecordEntry{key, c})
		}
		if err != nil {
			return fmt.Errorf("the injected record, key %q: %w", key, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("the injected record: %w", err)
	}
	return nil
}
