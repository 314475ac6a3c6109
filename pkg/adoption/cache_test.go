package adoption

import (
	"reflect"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
)

// TestTrimPodKeepsOnlyWhatTheGaugesRead: name, namespace, resourceVersion and the two version
// labels survive; annotations, managedFields, owner references, finalizers, UID and every other
// label are dropped before the Pod is stored.
func TestTrimPodKeepsOnlyWhatTheGaugesRead(t *testing.T) {
	in := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Name: "ws-1", Namespace: "team-a", ResourceVersion: "42", UID: "0d9f", GenerateName: "ws-",
		Labels: map[string]string{
			"app.kubernetes.io/name": "coder-workspace", "com.coder.workspace.name": "ws-1",
			libKey: "v2", templatesKey: "none", "tilt-lib.platform/other": "x",
		},
		Annotations:     map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{...}", "tilt-lib.platform/injected": "{}"},
		ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "coder"}},
		OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "ws"}},
		Finalizers:      []string{"coder.com/x"},
	}}
	out, err := testSettings().trimPod(in)
	if err != nil {
		t.Fatal(err)
	}
	want := metav1.ObjectMeta{Name: "ws-1", Namespace: "team-a", ResourceVersion: "42",
		Labels: map[string]string{libKey: "v2", templatesKey: "none"}}
	if got := out.(*metav1.PartialObjectMetadata).ObjectMeta; !reflect.DeepEqual(got, want) {
		t.Errorf("trimmed\n got %+v\nwant %+v", got, want)
	}

	// A Pod the webhook never saw keeps no labels at all (absence is what the gauge reads).
	bare := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "ws-2", Namespace: "team-a",
		Labels: map[string]string{"app.kubernetes.io/name": "coder-workspace"}}}
	out, _ = testSettings().trimPod(bare)
	if l := out.(*metav1.PartialObjectMetadata).Labels; l != nil {
		t.Errorf("un-injected Pod kept labels %v", l)
	}

	// Tombstones pass through untouched.
	tomb := toolscache.DeletedFinalStateUnknown{Key: "team-a/ws-1"}
	if out, err := testSettings().trimPod(tomb); err != nil || out != tomb {
		t.Errorf("tombstone: %v, %v", out, err)
	}
}

// TestPodCacheRestrictedToWorkspaces: the informer lists and watches only Pods the workspace
// selector matches (the API server filters), trims them, and hands out uncopied objects.
func TestPodCacheRestrictedToWorkspaces(t *testing.T) {
	s := testSettings()
	s.Selector = labels.SelectorFromSet(labels.Set{"team": "platform"}) // a non-default selector must be the one used
	bo := s.PodCache()
	if bo.Label == nil || bo.Label.String() != "team=platform" {
		t.Fatalf("Pod informer label selector = %v, want the workspace selector team=platform", bo.Label)
	}
	if bo.Label.Matches(labels.Set{"app.kubernetes.io/name": "coder-workspace"}) {
		t.Error("a Pod outside the selector would be cached")
	}
	if bo.Transform == nil || bo.UnsafeDisableDeepCopy == nil || !*bo.UnsafeDisableDeepCopy {
		t.Errorf("Pod cache: transform set %v, deep copy disabled %v", bo.Transform != nil, bo.UnsafeDisableDeepCopy)
	}
	if bo.Field != nil {
		t.Errorf("Pod informer field selector %v without an own namespace", bo.Field)
	}
	s.OwnNamespace = "tli-system"
	own := s.PodCache().Field
	if own == nil || own.String() != "metadata.namespace!=tli-system" || own.Matches(fields.Set{"metadata.namespace": "tli-system"}) {
		t.Errorf("Pod informer field selector %v, want the injector's own namespace left out", own)
	}
	if gvk := PodObject().GetObjectKind().GroupVersionKind(); gvk.Kind != "Pod" || gvk.Version != "v1" || gvk.Group != "" {
		t.Errorf("Pod object kind %v", gvk)
	}
}

// TestReadyFollowsTheCheck: tiltlib_ready is evaluated at each scrape from the server's check.
func TestReadyFollowsTheCheck(t *testing.T) {
	reg := prometheus.NewRegistry()
	ready := false
	if err := NewReady(reg, func() bool { return ready }); err != nil {
		t.Fatal(err)
	}
	for _, want := range []bool{false, true, false} {
		ready = want
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		if len(mfs) != 1 || mfs[0].GetName() != Ready {
			t.Fatalf("gathered %v", mfs)
		}
		got := mfs[0].GetMetric()[0].GetGauge().GetValue()
		if (got == 1) != want || (got != 0 && got != 1) {
			t.Errorf("ready %v: tiltlib_ready = %g", want, got)
		}
	}
}
