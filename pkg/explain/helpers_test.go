package explain

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// lookup is a ConfigMaps over "namespace/name" -> version label.
type lookup map[string]string

func (l lookup) Version(ns, name string) (string, bool) {
	v, ok := l[ns+"/"+name]
	return v, ok
}

func (l lookup) Namespaces(name string) []string {
	var out []string
	for k := range l {
		if ns, n, _ := strings.Cut(k, "/"); n == name {
			out = append(out, ns)
		}
	}
	slices.Sort(out)
	return out
}

const prefix = "tilt-lib.platform/"

var registered = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)

// baseInput is a workspace Pod in team-a, which pins stable (= v2), and whose ConfigMaps exist.
func baseInput() Input {
	o := mutate.DefaultOptions()
	o.Aliases = map[string]string{"stable": "v2"}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "ws-1", Namespace: "team-a",
		Labels: map[string]string{"app.kubernetes.io/name": "coder-workspace"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "dev"}, {Name: "sidecar"}}}}
	return Input{
		Options:              o,
		Workspaces:           labels.SelectorFromSet(map[string]string{"app.kubernetes.io/name": "coder-workspace"}),
		Subject:              Subject{Kind: "pod", Namespace: "team-a", Name: "ws-1"},
		Pod:                  pod,
		NamespaceAnnotations: map[string]string{prefix + "version": "stable"},
		NamespaceLabels:      map[string]string{"kubernetes.io/metadata.name": "team-a"},
		ConfigMaps:           lookup{"team-a/tilt-lib-v2": "2.0.1", "team-a/tilt-templates": "", "team-a/tilt-lib": "1.4.0"},
	}
}

func liveWebhook() *Webhook {
	return &Webhook{Name: "tilt-lib-injector", Found: true, FailurePolicy: "Ignore", Ready: 2, Endpoints: 2,
		Service: "tilt-lib-injector/tilt-lib-injector", Registered: registered,
		NamespaceSelector: labels.Everything(), ObjectSelector: labels.Everything(), ConfigSource: "deployment tilt-lib-injector/tilt-lib-injector args"}
}

func explainOK(t *testing.T, in Input) Report {
	t.Helper()
	r, err := Explain(in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// row returns the check of a layer; fails when there is none.
func row(t *testing.T, r Report, layer string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Layer == layer {
			return c
		}
	}
	t.Fatalf("no %q row in %+v", layer, r.Checks)
	return Check{}
}

func hasRow(r Report, layer string) bool {
	return slices.ContainsFunc(r.Checks, func(c Check) bool { return c.Layer == layer })
}

// admitted is what the webhook stored for a Pod that got record at creation.
func admitted(t *testing.T, in Input, created time.Time) *corev1.Pod {
	t.Helper()
	p := in.Pod.DeepCopy()
	p.CreationTimestamp = metav1.NewTime(created)
	return p
}

func emptyDirVolume(name string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
}

// labelled is a lookup that also knows its ConfigMaps' labels, as the live modes do.
type labelled struct {
	lookup
	labels map[string]map[string]string // "namespace/name" -> labels
}

func (l labelled) Labels(ns, name string) (map[string]string, bool) {
	if _, ok := l.lookup[ns+"/"+name]; !ok {
		return nil, false
	}
	return l.labels[ns+"/"+name], true
}
