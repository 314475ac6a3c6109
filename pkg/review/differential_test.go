package review

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/review/reviewtest"
)

const (
	v1      = "admission.k8s.io/v1"
	v1beta1 = "admission.k8s.io/v1beta1"
)

// Annotation keys under the default prefix, spelled as the contract (docs/design.md) on purpose.
const (
	keyInject           = "tilt-lib.platform/inject"
	keyVersion          = "tilt-lib.platform/version"
	keyTemplatesVersion = "tilt-lib.platform/templates-version"
	keyContainers       = "tilt-lib.platform/containers"
)

// requireIdentical sends the Pod in every review flavour (v1, v1beta1, dry-run) through both paths.
func requireIdentical(t *testing.T, p paths, namespace string, pod *corev1.Pod) {
	t.Helper()
	requireVerdict(t, p, namespace, pod, identical)
}

func requireVerdict(t *testing.T, p paths, namespace string, pod *corev1.Pod, want verdict) {
	t.Helper()
	for _, apiVersion := range []string{v1, v1beta1} {
		for _, dryRun := range []bool{false, true} {
			if v := p.compare(t, call{reviewOf(t, apiVersion, namespace, pod, dryRun), "application/json"}); v != want {
				t.Fatalf("%s dryRun=%v: verdict %d, want %d", apiVersion, dryRun, v, want)
			}
		}
	}
}

// TestDifferentialGolden runs every golden case of pkg/mutate through both paths, with its
// Namespace, both with every ConfigMap present and with only the defaults.
func TestDifferentialGolden(t *testing.T) {
	dirs, err := filepath.Glob("../mutate/testdata/*/pod.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, podFile := range dirs {
		dir := filepath.Dir(podFile)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var pod corev1.Pod
			readYAML(t, podFile, &pod)
			ns := corev1.Namespace{}
			ns.Name = "team-a"
			if _, err := os.Stat(filepath.Join(dir, "namespace.yaml")); err == nil {
				readYAML(t, filepath.Join(dir, "namespace.yaml"), &ns)
			}
			for _, cms := range []mutate.ConfigMapLookup{mutate.AllExist{}, mutate.MapLookup{ns.Name + "/tilt-lib": "1.0.0"}} {
				e := defaultEnv()
				e.namespaces = mapNamespaces{ns.Name: ns.Annotations}
				e.configMaps = cms
				requireIdentical(t, newPaths(e), ns.Name, &pod)
			}
		})
	}
}

func readYAML(t *testing.T, file string, into any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, into); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// TestDifferentialFixtures runs the e2e suite's workspace Pods, and the ladder of the
// benchmarks, through both paths in the scenarios of the e2e suite.
func TestDifferentialFixtures(t *testing.T) {
	// The shape of the e2e suite's Pods: a sidecar, an init container, a volume of its own.
	e2e := func(name string, ann map[string]string) *corev1.Pod {
		return reviewtest.WorkspacePod(reviewtest.Shape{Name: name, Annotations: ann, Sidecars: 1, InitContainers: 1, Volumes: 1})
	}
	pods := map[string]*corev1.Pod{
		"default":      e2e("ws-default", nil),
		"opt-out":      e2e("ws-optout", map[string]string{keyInject: "false"}),
		"opt-in":       e2e("ws-optin", map[string]string{keyInject: "true"}),
		"pod-v3":       e2e("ws-v3", map[string]string{keyVersion: "v3", keyTemplatesVersion: "v2"}),
		"containers":   e2e("ws-c", map[string]string{keyContainers: "dev,sidecar-0,nope"}),
		"invalid":      e2e("ws-bad", map[string]string{keyVersion: "V2!", keyInject: "maybe"}),
		"generateName": e2e("", nil),
	}
	for _, s := range reviewtest.Ladder {
		pods["ladder-"+s.Name] = reviewtest.WorkspacePod(s.Shape)
	}
	e := defaultEnv()
	e.namespaces["opted-out"] = map[string]string{keyInject: "false"}
	for name, pod := range pods {
		for _, ns := range []string{"team-a", "locked", "opted-out", "unknown"} {
			t.Run(name+"/"+ns, func(t *testing.T) { requireIdentical(t, newPaths(e), ns, pod) })
		}
	}
	t.Run("selector", func(t *testing.T) {
		e := defaultEnv()
		e.selector = labels.SelectorFromSet(labels.Set{"app.kubernetes.io/name": "coder-workspace"})
		p := newPaths(e)
		requireIdentical(t, p, "team-a", reviewtest.WorkspacePod(reviewtest.Shape{Name: "ws"}))
		other := reviewtest.WorkspacePod(reviewtest.Shape{Name: "other"})
		other.Labels = map[string]string{"app": "web"}
		requireIdentical(t, p, "team-a", other)
	})
	t.Run("not_ready", func(t *testing.T) {
		e := defaultEnv()
		e.synced = false
		requireVerdict(t, newPaths(e), "team-a", reviewtest.WorkspacePod(reviewtest.Shape{Name: "ws"}), callFailed)
	})
}

// TestDifferentialRequests covers what is not a plain Pod CREATE: each case names the verdict
// it must get.
func TestDifferentialRequests(t *testing.T) {
	pod := reviewOf(t, v1, "team-a", reviewtest.WorkspacePod(reviewtest.Shape{Name: "ws"}), false)
	swap := func(from, to string) []byte { return bytes.Replace(pod, []byte(from), []byte(to), 1) }
	service := []byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"}}`)
	for _, tc := range []struct {
		name string
		call call
		want verdict
	}{
		{"delete", call{swap(`"operation":"CREATE"`, `"operation":"DELETE"`), "application/json"}, identical},
		{"other resource", call{swap(`"resource":"pods"`, `"resource":"services"`), "application/json"}, identical},
		{"subresource", call{swap(`"operation":"CREATE"`, `"operation":"CREATE","subResource":"binding"`), "application/json"}, identical},
		{"invalid namespace", call{swap(`"namespace":"team-a"`, `"namespace":"Team A\n<x>"`), "application/json"}, callFailed},
		{"missing request", call{[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), "application/json"}, identical},
		{"null request", call{[]byte(`{"request":null}`), "application/json"}, identical},
		{"unversioned review", call{[]byte(`{}`), "application/json"}, identical},
		{"other review version", call{[]byte(`{"apiVersion":"example.com/v9","kind":"Other","request":{"uid":"u"}}`), "application/json"}, identical},
		{"case-folded apiVersion", call{[]byte(`{"APIVERSION":"admission.k8s.io/v1beta1","Kind":"AdmissionReview"}`), "application/json"}, identical},
		{"non-Pod object", call{reviewRaw(t, v1, "team-a", service, false), "application/json"}, callFailed},
		{"object kind case-folded", call{reviewRaw(t, v1, "team-a", []byte(`{"KIND":"Service"}`), false), "application/json"}, callFailed},
		{"object apiVersion v2", call{reviewRaw(t, v1, "team-a", []byte(`{"apiVersion":"v2","kind":"Pod"}`), false), "application/json"}, callFailed},
		{"object apiVersion /v1", call{reviewRaw(t, v1, "team-a", []byte(`{"apiVersion":"/v1","spec":{"containers":[{"name":"dev"}]}}`), false), "application/json"}, identical},
		{"duplicate name then null", call{swap(`"namespace":"team-a"`, `"namespace":"team-a","namespace":null`), "application/json"}, identical},
		{"object not an object", call{reviewRaw(t, v1, "team-a", []byte(`"pod"`), false), "application/json"}, callFailed},
		{"missing object", call{swap(`"object":`, `"notObject":`), "application/json"}, callFailed},
		{"object type error", call{reviewRaw(t, v1, "team-a", []byte(`{"metadata":{"labels":{"a":1}}}`), false), "application/json"}, callFailed},
		{"env name type error", call{reviewRaw(t, v1, "team-a", []byte(`{"spec":{"containers":[{"name":"dev","env":[{"name":7}]}]}}`), false), "application/json"}, callFailed},
		{"review type error", call{swap(`"uid":"705ab4f5`, `"uid":5,"x":"`), "application/json"}, callFailed},
		{"three-part apiVersion", call{[]byte(`{"apiVersion":"a/b/c"}`), "application/json"}, callFailed},
		{"garbage", call{[]byte("{\x00garbage"), "application/json"}, callFailed},
		{"trailing garbage", call{append(bytes.Clone(pod), '}'), "application/json"}, callFailed},
		{"wrong content type", call{pod, "application/yaml"}, callFailed},
		{"no content type", call{pod, ""}, callFailed},
		{"empty body", call{nil, "application/json"}, callFailed},
		{"zero-length body", call{[]byte{}, "application/json"}, notJSONObject},
		{"YAML body", call{[]byte("request: {uid: u}\n"), "application/json"}, notJSONObject},
		{"null body", call{[]byte("null"), "application/json"}, notJSONObject},
		{"unread field type error", call{swap(`"image":"codercom/enterprise-base:ubuntu"`, `"image":5`), "application/json"}, unreadTypeOnly},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newPaths(defaultEnv()).compare(t, tc.call); got != tc.want {
				t.Fatalf("verdict %d, want %d", got, tc.want)
			}
		})
	}
}

// TestDifferentialBodyLimit sends bodies one byte under and exactly at MaxBodyBytes, and at
// controller-runtime's own 7 MiB limit: the first is decided the same way on both paths; the
// others get a failed call (HTTP 413) from ours, where controller-runtime decides the second and
// denies the third (verdict overCap: the deliberate difference of issue 23).
func TestDifferentialBodyLimit(t *testing.T) {
	pod := reviewOf(t, v1, "team-a", reviewtest.WorkspacePod(reviewtest.Shape{Name: "ws"}), false)
	pad := func(n int) []byte { // blanks before the closing brace keep the review valid
		b := make([]byte, 0, n)
		b = append(b, pod[:len(pod)-1]...)
		b = append(b, bytes.Repeat([]byte(" "), n-len(pod))...)
		return append(b, '}')
	}
	p := newPaths(defaultEnv())
	under := call{pad(MaxBodyBytes - 1), "application/json"}
	if v := p.compare(t, under); v != identical {
		t.Fatalf("under the limit: verdict %d", v)
	}
	if _, b := serve(p.new, under); !bytes.Contains(b, []byte(`"patchType":"JSONPatch"`)) {
		t.Fatalf("a body one byte under the limit was not decided: %s", b)
	}
	p.newLog.take()
	at := call{pad(MaxBodyBytes), "application/json"}
	if v := p.compare(t, at); v != overCap {
		t.Fatalf("at the limit: verdict %d", v)
	}
	if _, b := serve(p.old, at); !bytes.Contains(b, []byte(`"patchType":"JSONPatch"`)) {
		t.Fatalf("controller-runtime did not decide a body at our limit: %.300s", b)
	}
	p.oldLog.take()
	const theirLimit = 7 << 20
	if v := p.compare(t, call{pad(theirLimit), "application/json"}); v != overCap {
		t.Fatalf("at controller-runtime's limit: verdict %d", v)
	}
	if _, b := serve(p.old, call{pad(theirLimit), "application/json"}); !strings.Contains(string(b), `"code":413`) {
		t.Fatalf("controller-runtime did not refuse a body at its own limit: %.300s", b)
	}
}
