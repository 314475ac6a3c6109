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
// output), container names, mounts (mountpath_conflict, and where the patch appends) and whether a
// container has CODER_AGENT_TOKEN.
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
			Env          agentToken           `json:"env"`
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

// agentTokenEnv is the env var that marks Coder's agent container (see mutate's targets).
const agentTokenEnv = "CODER_AGENT_TOKEN"

// agentToken is a container's env list reduced to whether it names agentTokenEnv: read without
// keeping a string, so env vars cost no allocation.
type agentToken bool

// UnmarshalJSONFrom implements json.UnmarshalerFrom for an env list: null or an array of objects
// (or nulls) whose "name", when present and not null, is a string.
func (t *agentToken) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case 'n':
		*t = false
		_, err := dec.ReadToken()
		return err
	case '[':
	default:
		return fmt.Errorf("env is a JSON %s, not an array", dec.PeekKind())
	}
	*t = false
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != ']' {
		found, err := envHasToken(dec)
		if err != nil {
			return err
		}
		if found {
			*t = true
		}
	}
	_, err := dec.ReadToken()
	return err
}

// envHasToken reads one env var and reports whether it is agentTokenEnv; the last "name" wins.
func envHasToken(dec *jsontext.Decoder) (bool, error) {
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		return false, err
	case '{':
	default:
		return false, fmt.Errorf("env var is a JSON %s, not an object", dec.PeekKind())
	}
	if _, err := dec.ReadToken(); err != nil {
		return false, err
	}
	found := false
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return false, err
		}
		if !isName(name, "name") {
			if err := dec.SkipValue(); err != nil {
				return false, err
			}
			continue
		}
		v, err := dec.ReadValue()
		switch {
		case err != nil:
			return false, err
		case v.Kind() == 'n':
		case v.Kind() != '"':
			return false, fmt.Errorf("env var name is a JSON %s, not a string", v.Kind())
		default:
			found = isName(v, agentTokenEnv)
		}
	}
	_, err := dec.ReadToken()
	return found, err
}

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
			if c.Env {
				pod.Spec.Containers[i].Env = tokenEnv
			}
		}
	}
	return pod, nil
}

// tokenEnv stands for every env list holding agentTokenEnv; mutate never modifies its input.
var tokenEnv = []corev1.EnvVar{{Name: agentTokenEnv}}

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
