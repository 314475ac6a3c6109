package adoption

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/platform-tools/tilt-lib-injector/pkg/lookup"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Label keys under the default prefix (re-declared as the contract's spelling, on purpose).
const (
	libKey       = "tilt-lib.platform/version"
	templatesKey = "tilt-lib.platform/templates-version"
)

func testSettings() Settings {
	return Settings{
		Options:      mutate.DefaultOptions(),
		VersionLabel: "version",
		Selector:     labels.SelectorFromSet(labels.Set{"app.kubernetes.io/name": "coder-workspace"}),
	}
}

// pod is a workspace Pod carrying the given labels (besides the workspace label).
func pod(ns, name string, lbls map[string]string) *corev1.Pod {
	l := map[string]string{"app.kubernetes.io/name": "coder-workspace"}
	for k, v := range lbls {
		l[k] = v
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: l}}
}

// configMap is a ConfigMap with version label v ("" for none).
func configMap(ns, name, v string) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if v != "" {
		cm.Labels = map[string]string{"version": v}
	}
	return cm
}

// listedConfigMaps lists the ConfigMaps from a client.Reader (a controller-runtime cache) at every
// Range: how the collector read them before the server fed it pkg/lookup's store, kept as the
// other side of TestMapping and in BenchmarkCollect. A failed list fails t.
type listedConfigMaps struct {
	reader       client.Reader
	versionLabel string
	t            testing.TB
}

func (l listedConfigMaps) Range(fn func(k lookup.ConfigMapKey, version string)) {
	cms := list("ConfigMapList")
	if err := l.reader.List(context.Background(), cms); err != nil {
		l.t.Errorf("listing ConfigMaps: %v", err)
		return
	}
	for i := range cms.Items {
		m := &cms.Items[i]
		fn(lookup.ConfigMapKey{Namespace: m.Namespace, Name: m.Name}, m.Labels[l.versionLabel])
	}
}

// fixture is a collector over a fake client holding objs (the ConfigMaps listed from it too),
// registered on a fresh registry.
func fixture(t testing.TB, synced func() bool, objs ...client.Object) *Collector {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(objs...).Build()
	reg := prometheus.NewRegistry()
	s := testSettings()
	col, err := New(reg, c, listedConfigMaps{c, s.VersionLabel, t}, s, synced, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	return col
}

// storeFixture is fixture with the ConfigMaps among objs in a pkg/lookup ConfigMapStore (which
// keeps only ours) and the rest in the fake client: the server's wiring.
func storeFixture(t testing.TB, synced func() bool, objs ...client.Object) *Collector {
	t.Helper()
	s := testSettings()
	store := lookup.NewConfigMapStore(lookup.Settings{Bases: s.Options.Bases(), VersionLabel: s.VersionLabel})
	var cms []any
	var rest []client.Object
	for _, o := range objs {
		if _, ok := o.(*corev1.ConfigMap); ok {
			cms = append(cms, o)
			continue
		}
		rest = append(rest, o)
	}
	if err := store.Replace(cms, "1"); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(rest...).Build()
	col, err := New(prometheus.NewRegistry(), c, store, s, synced, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	return col
}

func always() bool { return true }

// expect compares the collector's series of the named metrics with want: exposition lines
// "name{labels} value", in any order. Every series not listed must be absent.
func expect(t *testing.T, col prometheus.Collector, want string, names ...string) {
	t.Helper()
	help := map[string]string{WorkspacePods: workspacePodsHelp, ConfigMapVersions: configMapVersionsHelp}
	var text strings.Builder
	for _, n := range names {
		fmt.Fprintf(&text, "# HELP %s %s\n# TYPE %s gauge\n", n, help[n], n)
		for _, line := range strings.Split(want, "\n") {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, n+"{") {
				text.WriteString(line + "\n")
			}
		}
	}
	if err := testutil.CollectAndCompare(col, strings.NewReader(text.String()), names...); err != nil {
		t.Error(err)
	}
}
