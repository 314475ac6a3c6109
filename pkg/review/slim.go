package review

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// decodeOptions reproduce what Kubernetes' decoder (sigs.k8s.io/json, a fork of encoding/json)
// accepts: duplicate names (the last wins, objects merge, null leaves a string as it was) and
// invalid UTF-8 (replaced by U+FFFD), with names matched case-sensitively. apiVersion and kind
// are the exception: controller-runtime reads them with encoding/json, case-insensitively, and
// so does the slim view (`case:ignore`, without folding '-' and '_', as encoding/json).
var decodeOptions = json.JoinOptions(
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
	jsonv1.MergeWithLegacySemantics(true),
	jsonv1.MatchCaseSensitiveDelimiter(true),
)

// review is the slim AdmissionReview: v1 and v1beta1 have the same shape.
type review struct {
	APIVersion string   `json:"apiVersion,case:ignore"`
	Kind       string   `json:"kind,case:ignore"`
	Request    *request `json:"request"`
}

type request struct {
	UID         string                      `json:"uid"`
	Resource    metav1.GroupVersionResource `json:"resource"`
	SubResource string                      `json:"subResource"`
	Namespace   string                      `json:"namespace"`
	Operation   string                      `json:"operation"`
	DryRun      *bool                       `json:"dryRun"`
	Object      object                      `json:"object"`
}

// object is request.object: decoded as a slim Pod in the same pass, its error kept for the
// decision (an undecodable object is decode_error, but only after the checks that come first).
type object struct {
	present bool
	pod     slimPod
	err     error
}

var (
	errNoObject  = errors.New("there is no content to decode")
	errNotObject = errors.New("request.object is not a JSON object")
)

// UnmarshalJSONFrom implements json.UnmarshalerFrom. Like runtime.RawExtension, a null keeps
// what an earlier duplicate held.
func (o *object) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() == 'n' {
		_, err := dec.ReadToken()
		return err
	}
	raw, err := dec.ReadValue() // syntax checked; valid until the next read
	if err != nil {
		return err
	}
	*o = object{present: true}
	if raw.Kind() != '{' {
		o.err = errNotObject
		return nil
	}
	o.err = json.Unmarshal(raw, &o.pod, decodeOptions)
	return nil
}

// slimPod is what pkg/mutate and pkg/decide read of a Pod: names (for log lines), labels (the
// selector, the version labels), every annotation (mutate's annotations size accounting), volume
// names and ConfigMap sources (volume_conflict, and whether a volume is mutate's own earlier
// output), container names, mounts (mountpath_conflict, and where the patch appends) and of each
// container's env what envScan keeps (CODER_AGENT_TOKEN, and envbox's vars).
type slimPod struct {
	APIVersion string `json:"apiVersion,case:ignore"`
	Kind       string `json:"kind,case:ignore"`
	Metadata   struct {
		Name         string            `json:"name"`
		GenerateName string            `json:"generateName"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Volumes []struct {
			Name      string `json:"name"`
			ConfigMap *struct {
				Name string `json:"name"`
				// Optional and whether Items are listed tell mutate whether an existing volume
				// is its own earlier output (mutate's ours.go) and whether a rewrite sets optional.
				Optional bool       `json:"optional"`
				Items    []struct{} `json:"items"` // zero-size elements: counted, never stored
			} `json:"configMap"`
		} `json:"volumes"`
		Containers []struct {
			Name         string               `json:"name"`
			Env          envScan              `json:"env"`
			VolumeMounts []corev1.VolumeMount `json:"volumeMounts"`
		} `json:"containers"`
	} `json:"spec"`
}

// optionalTrue and itemsListed stand for what a slim Pod's ConfigMap volume source does not keep:
// shared, never written (mutate does not modify its input), so they cost no allocation.
var (
	optionalTrue = true
	itemsListed  = []corev1.KeyToPath{{}}
)

// envScan is a container's env list reduced to what mutate reads of it (its targets and
// envbox.go): how many vars, and the index of the last CODER_AGENT_TOKEN, CODER_INNER_IMAGE and
// CODER_MOUNTS, with the last one's value or whether it comes from valueFrom. Read without keeping
// a string, so env vars cost no allocation; only a CODER_MOUNTS value is decoded.
type envScan struct {
	n                    int
	token, inner, mounts int // index + 1; 0 when absent
	mountsValue          string
	mountsFrom           bool
}

// envKind is which of the vars mutate reads an env var is.
type envKind uint8

const (
	envOther envKind = iota
	envToken
	envInner
	envMounts
)

// UnmarshalJSONFrom implements json.UnmarshalerFrom for an env list: null or an array of objects
// (or nulls) whose "name", when present and not null, is a string.
func (e *envScan) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case 'n':
		*e = envScan{}
		_, err := dec.ReadToken()
		return err
	case '[':
	default:
		return fmt.Errorf("env is a JSON %s, not an array", dec.PeekKind())
	}
	*e = envScan{}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for ; dec.PeekKind() != ']'; e.n++ {
		if err := e.readVar(dec); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

// readVar reads env var e.n. As Kubernetes' decoder: the last "name", "value" and "valueFrom"
// win, a null name or value leaves the one before, a null valueFrom clears it.
func (e *envScan) readVar(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		return err
	case '{':
	default:
		return fmt.Errorf("env var is a JSON %s, not an object", dec.PeekKind())
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	kind, from := envOther, false
	// The value is kept raw until the name is known (it may come first): on the stack unless
	// it is long, decoded only for CODER_MOUNTS.
	var buf [256]byte
	value := buf[:0]
	for dec.PeekKind() != '}' {
		key, err := dec.ReadValue()
		if err != nil {
			return err
		}
		var field int
		switch {
		case isName(key, "name"):
			field = 1
		case isName(key, "value"):
			field = 2
		case isName(key, "valueFrom"):
			field = 3
		default:
			if err := dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		v, err := dec.ReadValue()
		switch {
		case err != nil:
			return err
		case field == 3:
			from = v.Kind() != 'n' // anything but an object fails the typed decode, not this one
		case v.Kind() == 'n':
		case v.Kind() != '"' && field == 1:
			return fmt.Errorf("env var name is a JSON %s, not a string", v.Kind())
		case field == 1:
			kind = nameKind(v)
		case v.Kind() == '"':
			value = append(value[:0], v...)
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	i := e.n + 1
	switch kind {
	case envToken:
		e.token = i
	case envInner:
		e.inner = i
	case envMounts:
		e.mounts, e.mountsFrom, e.mountsValue = i, from, ""
		if len(value) > 0 {
			// A copy: buf stays on the stack only if nothing keeps it.
			if err := json.Unmarshal(bytes.Clone(value), &e.mountsValue, decodeOptions); err != nil {
				return err
			}
		}
	}
	return nil
}

func nameKind(v jsontext.Value) envKind {
	switch {
	case isName(v, mutate.CoderMountsEnv):
		return envMounts
	case isName(v, mutate.CoderInnerImageEnv):
		return envInner
	case isName(v, agentTokenEnv):
		return envToken
	}
	return envOther
}

// agentTokenEnv is the env var that marks Coder's agent container (see mutate's targets).
const agentTokenEnv = "CODER_AGENT_TOKEN"

// isName reports whether the JSON string raw is want, without allocating when raw holds no
// escape (names never do, unless someone tries).
func isName(raw jsontext.Value, want string) bool {
	in := raw[1 : len(raw)-1]
	if bytes.IndexByte(in, '\\') < 0 {
		return string(in) == want
	}
	var buf [64]byte
	s, err := jsontext.AppendUnquote(buf[:0], raw)
	return err == nil && string(s) == want
}

// errNotPod says the object's apiVersion and kind name something other than a v1 Pod.
type errNotPod struct{ apiVersion, kind string }

func (e errNotPod) Error() string {
	return fmt.Sprintf("object is apiVersion %q kind %q, not a v1 Pod", e.apiVersion, e.kind)
}

// toPod checks what the object claims to be, with the defaults controller-runtime's decoder
// applies (a missing kind is Pod, a missing group and version are v1), and builds a Pod holding
// the slim view's fields: mutate's input, without a full typed decode.
func (p *slimPod) toPod() (*corev1.Pod, error) {
	group, version, ok := parseGroupVersion(p.APIVersion)
	kind := p.Kind
	if kind == "" {
		kind = "Pod"
	}
	if group == "" && version == "" {
		version = "v1"
	}
	if !ok || group != "" || version != "v1" || kind != "Pod" {
		return nil, errNotPod{p.APIVersion, p.Kind}
	}
	pod := &corev1.Pod{}
	pod.Name, pod.GenerateName = p.Metadata.Name, p.Metadata.GenerateName
	pod.Labels, pod.Annotations = p.Metadata.Labels, p.Metadata.Annotations
	if n := len(p.Spec.Volumes); n > 0 {
		pod.Spec.Volumes = make([]corev1.Volume, n)
		var sources []corev1.ConfigMapVolumeSource // one allocation for every ConfigMap source
		for i, v := range p.Spec.Volumes {
			pod.Spec.Volumes[i].Name = v.Name
			if v.ConfigMap != nil {
				if sources == nil {
					sources = make([]corev1.ConfigMapVolumeSource, n)
				}
				sources[i].Name = v.ConfigMap.Name
				if v.ConfigMap.Optional {
					sources[i].Optional = &optionalTrue
				}
				if len(v.ConfigMap.Items) > 0 {
					sources[i].Items = itemsListed
				}
				pod.Spec.Volumes[i].ConfigMap = &sources[i]
			}
		}
	}
	if n := len(p.Spec.Containers); n > 0 {
		pod.Spec.Containers = make([]corev1.Container, n)
		for i, c := range p.Spec.Containers {
			pod.Spec.Containers[i].Name = c.Name
			pod.Spec.Containers[i].VolumeMounts = c.VolumeMounts
			pod.Spec.Containers[i].Env = c.Env.toEnv()
		}
	}
	return pod, nil
}

// sharedEnvs is the env list of every container that has neither CODER_INNER_IMAGE nor
// CODER_MOUNTS (mutate never modifies its input): its first sharedEnvs vars, nameless, but for
// CODER_AGENT_TOKEN first in tokenEnvs. Mutate reads their length and names only.
const sharedEnvs = 512

var (
	blankEnvs [sharedEnvs]corev1.EnvVar
	tokenEnvs = func() (e [sharedEnvs]corev1.EnvVar) { e[0].Name = agentTokenEnv; return e }()
	// fromSource stands for any valueFrom: mutate only asks whether there is one.
	fromSource corev1.EnvVarSource
)

// toEnv is the env list mutate reads: shared when it needs no envbox var (no allocation), else
// one slice with the last token, inner image and CODER_MOUNTS at their own indexes.
func (e envScan) toEnv() []corev1.EnvVar {
	switch {
	case e.n == 0:
		return nil
	case e.inner == 0 && e.mounts == 0 && e.n <= sharedEnvs:
		if e.token > 0 {
			return tokenEnvs[:e.n:e.n]
		}
		return blankEnvs[:e.n:e.n]
	}
	env := make([]corev1.EnvVar, e.n)
	if e.token > 0 {
		env[e.token-1].Name = agentTokenEnv
	}
	if e.inner > 0 {
		env[e.inner-1].Name = mutate.CoderInnerImageEnv
	}
	if e.mounts > 0 {
		m := &env[e.mounts-1]
		m.Name, m.Value = mutate.CoderMountsEnv, e.mountsValue
		if e.mountsFrom {
			m.ValueFrom = &fromSource
		}
	}
	return env
}

// parseGroupVersion splits an apiVersion as schema.ParseGroupVersion does: "" and "/" are empty,
// "v1" is a version, "g/v" a group and a version, more slashes are invalid.
func parseGroupVersion(gv string) (group, version string, ok bool) {
	if gv == "" || gv == "/" {
		return "", "", true
	}
	switch strings.Count(gv, "/") {
	case 0:
		return "", gv, true
	case 1:
		i := strings.IndexByte(gv, '/')
		return gv[:i], gv[i+1:], true
	}
	return "", "", false
}
