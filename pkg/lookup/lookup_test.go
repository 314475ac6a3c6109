package lookup

import (
	"context"
	"errors"
	"reflect"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var settings = Settings{AnnotationPrefix: "tilt-lib.platform/", Bases: []string{"tilt-lib", "tilt-templates"}, VersionLabel: "version"}

func meta(name, ns string, labels, ann map[string]string) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: ns, Labels: labels, Annotations: ann, ResourceVersion: "7",
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "argocd"}},
	}}
}

func TestTrimNamespaceKeepsOnlyPrefixedAnnotations(t *testing.T) {
	out, err := settings.trimNamespace(meta("team-a", "", map[string]string{"team": "a"}, map[string]string{
		"tilt-lib.platform/version": "v2", "kubectl.kubernetes.io/last-applied-configuration": "{...}",
	}))
	if err != nil {
		t.Fatal(err)
	}
	m := out.(*metav1.PartialObjectMetadata)
	if !reflect.DeepEqual(m.Annotations, map[string]string{"tilt-lib.platform/version": "v2"}) ||
		m.Labels != nil || m.ManagedFields != nil || m.Name != "team-a" || m.ResourceVersion != "7" {
		t.Fatalf("trimmed = %+v", m.ObjectMeta)
	}
}

func TestTrimConfigMap(t *testing.T) {
	cases := []struct {
		name   string
		labels map[string]string
		want   map[string]string
	}{
		{"tilt-lib", map[string]string{"version": "1.4.0", "app": "x"}, map[string]string{"version": "1.4.0"}},
		{"tilt-lib-v2", map[string]string{"version": "2.0.1"}, map[string]string{"version": "2.0.1"}},
		{"tilt-templates", map[string]string{"app": "x"}, nil},
		{"tilt-library", map[string]string{"version": "9"}, nil}, // not "<base>" or "<base>-…"
		{"kube-root-ca.crt", map[string]string{"version": "1"}, nil},
	}
	for _, c := range cases {
		out, err := settings.trimConfigMap(meta(c.name, "team-a", c.labels, map[string]string{"big": "annotation"}))
		if err != nil {
			t.Fatal(err)
		}
		m := out.(*metav1.PartialObjectMetadata)
		if !reflect.DeepEqual(m.Labels, c.want) || m.Annotations != nil || m.ManagedFields != nil || m.Name != c.name || m.Namespace != "team-a" {
			t.Errorf("%s: trimmed = %+v", c.name, m.ObjectMeta)
		}
	}
	// Tombstones and unexpected types pass through untouched.
	if out, _ := settings.trimConfigMap("tombstone"); out != "tombstone" {
		t.Errorf("non-metadata object changed: %v", out)
	}
}

// fakeReader is a client.Reader over a fixed set of metadata objects, or a fixed error.
type fakeReader struct {
	objs map[client.ObjectKey]*metav1.PartialObjectMetadata
	err  error
}

func (f fakeReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	if f.err != nil {
		return f.err
	}
	m, ok := f.objs[key]
	if !ok {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, key.Name)
	}
	m.DeepCopyInto(obj.(*metav1.PartialObjectMetadata))
	return nil
}

func (fakeReader) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }

func TestLookup(t *testing.T) {
	l := Lookup{Settings: settings, Reader: fakeReader{objs: map[client.ObjectKey]*metav1.PartialObjectMetadata{
		{Namespace: "team-a", Name: "tilt-lib-v2"}: meta("tilt-lib-v2", "team-a", map[string]string{"version": "2.0.1"}, nil),
		{Name: "team-a"}: meta("team-a", "", nil, map[string]string{"tilt-lib.platform/version": "v2"}),
	}}}
	if v, ok := l.Version("team-a", "tilt-lib-v2"); !ok || v != "2.0.1" {
		t.Errorf("Version(tilt-lib-v2) = %q %v", v, ok)
	}
	if _, ok := l.Version("team-b", "tilt-lib-v2"); ok {
		t.Error("ConfigMap of another namespace found")
	}
	ann, found, err := l.NamespaceAnnotations(context.Background(), "team-a")
	if err != nil || !found || ann["tilt-lib.platform/version"] != "v2" {
		t.Errorf("NamespaceAnnotations = %v %v %v", ann, found, err)
	}
	if _, found, err := l.NamespaceAnnotations(context.Background(), "nope"); found || err != nil {
		t.Errorf("missing namespace: found=%v err=%v", found, err)
	}

	broken := Lookup{Settings: settings, Reader: fakeReader{err: errors.New("cache stopped")}}
	if v, ok := broken.Version("team-a", "tilt-lib"); !ok || v != "" {
		t.Errorf("cache error must read as exists/unknown, got %v %q", ok, v)
	}
	if _, _, err := broken.NamespaceAnnotations(context.Background(), "team-a"); err == nil {
		t.Error("namespace cache error swallowed")
	}
}
