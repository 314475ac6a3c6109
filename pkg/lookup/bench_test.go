package lookup

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"
)

// managedBy is a managedFields entry as kubectl, Argo CD or the kube-controller-manager write them.
func managedBy(manager, op, body string) metav1.ManagedFieldsEntry {
	ts := metav1.NewTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	return metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationType(op), APIVersion: "v1",
		Time: &ts, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(body)}
}

// realisticNamespace is a GitOps-managed, pinned team Namespace: labels, five annotations (one a
// last-applied-configuration), managedFields from kubectl and Argo CD.
func realisticNamespace(i int) *metav1.PartialObjectMetadata {
	name := fmt.Sprintf("team-%06d", i)
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Name: name, UID: types.UID(fmt.Sprintf("0b6e4a8e-8f0c-4a8e-9d6a-%012d", i)), ResourceVersion: fmt.Sprint(1000 + i),
		CreationTimestamp: metav1.NewTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)),
		Labels: map[string]string{"kubernetes.io/metadata.name": name, "team": name, "argocd.argoproj.io/instance": "tenants",
			"cost-center": fmt.Sprint(4000 + i%50)},
		Annotations: map[string]string{
			"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"v1","kind":"Namespace","metadata":{"annotations":{"tilt-lib.platform/version":"v2","tilt-lib.platform/templates-version":"default","owner":"` + name + `@example.com"},"labels":{"team":"` + name + `","cost-center":"4000"},"name":"` + name + `"}}`,
			"argocd.argoproj.io/tracking-id":                   "tenants:/Namespace:" + name + "/" + name,
			"owner":                                            name + "@example.com",
			"tilt-lib.platform/version":                        "v2",
			"tilt-lib.platform/templates-version":              "default",
		},
		ManagedFields: []metav1.ManagedFieldsEntry{
			managedBy("kubectl-client-side-apply", "Update", `{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{},"f:owner":{},"f:tilt-lib.platform/templates-version":{},"f:tilt-lib.platform/version":{}},"f:labels":{".":{},"f:cost-center":{},"f:kubernetes.io/metadata.name":{},"f:team":{}}}}`),
			managedBy("argocd-controller", "Apply", `{"f:metadata":{"f:annotations":{"f:argocd.argoproj.io/tracking-id":{}},"f:labels":{"f:argocd.argoproj.io/instance":{}}}}`),
		},
	}}
}

// realisticConfigMaps are a namespace's ConfigMaps: kube-root-ca.crt everywhere, and in every
// tenth namespace our tilt-lib-v2, synced by Argo CD.
func realisticConfigMaps(i int) []*metav1.PartialObjectMetadata {
	ns := fmt.Sprintf("team-%06d", i)
	out := []*metav1.PartialObjectMetadata{{ObjectMeta: metav1.ObjectMeta{
		Name: "kube-root-ca.crt", Namespace: ns, UID: types.UID(fmt.Sprintf("5c1d6f0e-2b7a-4c3e-8f1a-%012d", i)), ResourceVersion: fmt.Sprint(200000 + i),
		Annotations: map[string]string{"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."},
		ManagedFields: []metav1.ManagedFieldsEntry{managedBy("kube-controller-manager", "Update",
			`{"f:data":{".":{},"f:ca.crt":{}},"f:metadata":{"f:annotations":{".":{},"f:kubernetes.io/description":{}}}}`)},
	}}}
	if i%10 == 0 {
		out = append(out, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
			Name: "tilt-lib-v2", Namespace: ns, UID: types.UID(fmt.Sprintf("9a2f3b4c-5d6e-4f70-8192-%012d", i)), ResourceVersion: fmt.Sprint(400000 + i),
			Labels:      map[string]string{"version": "2.0.1", "app.kubernetes.io/part-of": "tilt-lib", "argocd.argoproj.io/instance": "tilt-lib"},
			Annotations: map[string]string{"argocd.argoproj.io/tracking-id": "tilt-lib:/ConfigMap:" + ns + "/tilt-lib-v2"},
			ManagedFields: []metav1.ManagedFieldsEntry{managedBy("argocd-controller", "Apply",
				`{"f:data":{"f:Tiltfile":{},"f:lib.star":{}},"f:metadata":{"f:annotations":{"f:argocd.argoproj.io/tracking-id":{}},"f:labels":{"f:app.kubernetes.io/part-of":{},"f:argocd.argoproj.io/instance":{},"f:version":{}}}}`)},
		}})
	}
	return out
}

// generated serves n realistic Namespaces or their ConfigMaps, built afresh at every List so
// that nothing but the cache under test keeps them.
type generated struct {
	n          int
	configMaps bool
}

func (g generated) list(context.Context, metav1.ListOptions) (*metav1.PartialObjectMetadataList, error) {
	l := &metav1.PartialObjectMetadataList{ListMeta: metav1.ListMeta{ResourceVersion: "999999"}}
	for i := range g.n {
		if !g.configMaps {
			l.Items = append(l.Items, *realisticNamespace(i))
			continue
		}
		for _, m := range realisticConfigMaps(i) {
			l.Items = append(l.Items, *m)
		}
	}
	return l, nil
}

func (generated) watch(context.Context, metav1.ListOptions) (watch.Interface, error) {
	return watch.NewFake(), nil
}

// liveHeap is the live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkCacheMemory reports the live bytes per namespace ("B/ns") the Namespace and ConfigMap
// caches keep, every namespace pinned, with kube-root-ca.crt, every tenth with tilt-lib-v2:
// before (the controller-runtime metadata caches with the trimming transforms) and after (our
// stores fed by Reflectors). Target: ≤ 150 B per namespace.
func BenchmarkCacheMemory(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("before/%dk", n/1000), func(b *testing.B) {
			for b.Loop() {
				ctx, cancel := context.WithCancel(context.Background())
				base := liveHeap()
				l := oracle(b, ctx, generated{n, false}, generated{n, true})
				b.ReportMetric(float64(liveHeap()-base)/float64(n), "B/ns")
				if v, ok := l.Version("team-000010", "tilt-lib-v2"); !ok || v != "2.0.1" {
					b.Fatalf("Version = %q %v", v, ok)
				}
				cancel()
			}
		})
		b.Run(fmt.Sprintf("after/%dk", n/1000), func(b *testing.B) {
			for b.Loop() {
				ctx, cancel := context.WithCancel(context.Background())
				base := liveHeap()
				c := ours(b, ctx, generated{n, false}, generated{n, true})
				b.ReportMetric(float64(liveHeap()-base)/float64(n), "B/ns")
				if v, ok := c.Version("team-000010", "tilt-lib-v2"); !ok || v != "2.0.1" || c.Namespaces.Len() != n {
					b.Fatalf("Version = %q %v, %d namespaces", v, ok, c.Namespaces.Len())
				}
				cancel()
			}
		})
	}
}

var _ toolscache.ListerWatcher = noWatchList{}

// waitSynced polls synced with a deadline.
func waitSynced(ctx context.Context, synced func() bool) error {
	return wait.PollUntilContextTimeout(ctx, time.Millisecond, time.Minute, true, func(context.Context) (bool, error) { return synced(), nil })
}
