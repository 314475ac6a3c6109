package adoption

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/rollout"
	"github.com/platform-tools/tilt-lib-injector/pkg/versions"
)

const benchPods = 10_000

// workspaceMetaJSON is the metadata of a realistic Coder workspace Pod as the API server sends it
// to a metadata informer: ~20 labels, ~15 annotations including kubectl's last-applied
// configuration of the whole Pod, and managedFields of three managers.
func workspaceMetaJSON(i int) []byte {
	ns := fmt.Sprintf("team-%03d", i%1000)
	name := fmt.Sprintf("coder-ws-%05d-7f9c4d8b6-x2k4q", i)
	labels := map[string]string{
		"app.kubernetes.io/name": "coder-workspace", "app.kubernetes.io/instance": "coder-workspace-" + name,
		"app.kubernetes.io/part-of": "coder", "app.kubernetes.io/managed-by": "coder",
		"app.kubernetes.io/component": "workspace", "app.kubernetes.io/version": "2.18.1",
		"com.coder.resource": "true", "com.coder.workspace.id": fmt.Sprintf("6f1c2a9e-%04d-4b5e-9c1d-2f8a7e3b%04d", i%10000, i%10000),
		"com.coder.workspace.name": fmt.Sprintf("ws-%05d", i), "com.coder.user.id": fmt.Sprintf("a3d9e7c1-%04d-4f2b-8e6a-1c5d9b7f%04d", i%10000, i%10000),
		"com.coder.user.username": fmt.Sprintf("dev%05d", i), "com.coder.template.id": "0b7e6c55-1f2a-4d3c-9e8b-7a6f5e4d3c2b",
		"com.coder.template.name": "kubernetes-devcontainer", "com.coder.template.version": "hopeful_einstein7",
		"pod-template-hash": "7f9c4d8b6", "team": ns, "cost-center": "cc-4711", "environment": "dev",
		libKey: "v2", templatesKey: "default",
	}
	lastApplied := strings.Repeat(`{"name":"dev","image":"codercom/enterprise-base:ubuntu","env":[{"name":"CODER_AGENT_TOKEN","valueFrom":{"secretKeyRef":{"name":"token","key":"t"}}}],"resources":{"limits":{"cpu":"4","memory":"8Gi"}}},`, 20)
	annotations := map[string]string{
		"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"v1","kind":"Pod","spec":{"containers":[` + lastApplied + `]}}`,
		"tilt-lib.platform/status":                         "injected", "tilt-lib.platform/injected": `{"tilt-lib":{"configMap":"tilt-lib-v2","version":"2.0.1","source":"namespace"},"tilt-templates":{"configMap":"tilt-templates","version":"1.1.0","source":"default"},"containers":["dev"]}`,
		"com.coder.workspace.build.id": "9d8c7b6a-5e4f-3d2c-1b0a-9f8e7d6c5b4a", "com.coder.workspace.owner": fmt.Sprintf("dev%05d", i),
		"prometheus.io/scrape": "true", "prometheus.io/port": "2112", "cluster-autoscaler.kubernetes.io/safe-to-evict": "false",
		"kubernetes.io/psp": "restricted", "seccomp.security.alpha.kubernetes.io/pod": "runtime/default",
		"container.apparmor.security.beta.kubernetes.io/dev": "runtime/default", "vault.hashicorp.com/agent-inject": "false",
		"linkerd.io/inject": "disabled", "sidecar.istio.io/inject": "false", "karpenter.sh/do-not-disrupt": "true",
	}
	fields := func(n int) *metav1.FieldsV1 {
		return metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{` + strings.Repeat(`"f:com.coder.x":{},`, n) + `"f:y":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"dev\"}":{".":{},"f:image":{},"f:env":{}}}}}`)
	}
	m := metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadata"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns, UID: types.UID(fmt.Sprintf("1d2c3b4a-5e6f-7a8b-9c0d-%012d", i)),
			ResourceVersion: fmt.Sprint(1_000_000 + i), GenerateName: "coder-ws-", Labels: labels, Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "coder-ws-7f9c4d8b6", UID: "aa"}},
			ManagedFields: []metav1.ManagedFieldsEntry{
				{Manager: "coder", Operation: "Update", APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: fields(20)},
				{Manager: "kube-controller-manager", Operation: "Update", APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: fields(5)},
				{Manager: "kubelet", Operation: "Update", APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: fields(10), Subresource: "status"},
			},
		},
	}
	b, _ := json.Marshal(m) // a struct of strings and maps: cannot fail
	return b
}

// newIndexer is the store the informer keeps, with controller-runtime's namespace index.
func newIndexer() toolscache.Indexer {
	return toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc})
}

// BenchmarkPodStoreMemory fills the Pod store with 10,000 workspace Pods decoded from the API
// server's JSON, through the transform or not, and reports the heap each stored Pod retains.
func BenchmarkPodStoreMemory(b *testing.B) {
	raw := make([][]byte, benchPods)
	for i := range raw {
		raw[i] = workspaceMetaJSON(i)
	}
	b.Logf("one Pod's metadata on the wire: %d bytes", len(raw[0]))
	// The same Pods placed by a rollout: both components' record entries name it.
	rolled := make([][]byte, benchPods)
	for i, r := range raw {
		var m metav1.PartialObjectMetadata
		if err := json.Unmarshal(r, &m); err != nil {
			b.Fatal(err)
		}
		m.Annotations["tilt-lib.platform/injected"] = injected(both("tilt-lib-v3", "canary")...)
		rolled[i], _ = json.Marshal(m)
	}
	s := testSettings()
	s.Versions = versions.NewLive(mutate.DefaultOptions()) // no document yet: the trim needs only the flag
	fill := func(trim bool, raw [][]byte) (inuse, alloc float64) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		store := newIndexer()
		for _, r := range raw {
			m := &metav1.PartialObjectMetadata{}
			if err := json.Unmarshal(r, m); err != nil {
				b.Fatal(err)
			}
			var obj any = m
			if trim {
				obj, _ = s.trimPod(m)
			}
			if err := store.Add(obj); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(store)
		return float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / benchPods,
			float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / benchPods
	}
	var trimmed, untrimmed, trimmedLive, untrimmedLive, rolledLive float64
	for b.Loop() {
		trimmed, trimmedLive = fill(true, raw)
		untrimmed, untrimmedLive = fill(false, raw)
		_, rolledLive = fill(true, rolled)
	}
	// HeapInuse counts whole spans, so it includes the fragmentation the decoding garbage leaves
	// around the objects kept; HeapAlloc counts the live objects alone.
	b.ReportMetric(trimmed, "B/pod")
	b.ReportMetric(untrimmed, "untransformed-B/pod")
	b.ReportMetric(trimmedLive, "live-B/pod")
	b.ReportMetric(untrimmedLive, "untransformed-live-B/pod")
	b.ReportMetric(rolledLive, "rollout-live-B/pod")
}

// storeReader reads indexers the way controller-runtime's cache reader does with
// UnsafeDisableDeepCopy: the stored objects, copied shallowly into the list by apimeta.SetList.
type storeReader map[string]toolscache.Indexer // by list kind

func (r storeReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return fmt.Errorf("not used by the collector")
}

func (r storeReader) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	idx, ok := r[list.GetObjectKind().GroupVersionKind().Kind]
	if !ok {
		return fmt.Errorf("no store for %v", list.GetObjectKind().GroupVersionKind())
	}
	items := idx.List()
	objs := make([]kruntime.Object, len(items))
	for i, it := range items {
		objs[i] = it.(kruntime.Object)
	}
	return apimeta.SetList(list, objs)
}

// BenchmarkCollect is one scrape (Gather of the registry) at 10,000 workspace Pods in 1,000
// namespaces, each namespace holding tilt-lib, tilt-lib-v2, tilt-templates and ten unrelated
// ConfigMaps.
// collectRegistry is BenchmarkCollect's cluster (1,000 namespaces, benchPods workspaces) plus a
// tenant namespace holding tenant ConfigMaps tilt-lib-t<i>, each with a 63-character version
// label, registered on a fresh registry.
func collectRegistry(b *testing.B, tenant int, rollouts bool) *prometheus.Registry {
	s := testSettings()
	if rollouts {
		// A rollout of both components at 10 % has placed every Pod (its record names it).
		s.Versions = liveDoc(b, "aliases: {stable: v2}\nrollouts:\n- {name: tilt-lib-v3, from: stable, to: v3, percent: \"10\"}\n")
	}
	pods, cms := newIndexer(), newIndexer()
	add := func(idx toolscache.Indexer, ns, name string, l map[string]string) {
		if err := idx.Add(&metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: l}}); err != nil {
			b.Fatal(err)
		}
	}
	for n := range 1000 {
		ns := fmt.Sprintf("team-%03d", n)
		add(cms, ns, "tilt-lib", map[string]string{"version": "1.4.0"})
		add(cms, ns, "tilt-lib-v2", map[string]string{"version": "2.0.1"})
		add(cms, ns, "tilt-templates", map[string]string{"version": "1.1.0"})
		add(cms, ns, "tilt-lib-v3", map[string]string{"version": "3.0.0"})
		add(cms, ns, "tilt-templates-v3", map[string]string{"version": "3.0.0"})
		for k := range 10 {
			add(cms, ns, fmt.Sprintf("app-config-%d", k), nil)
		}
	}
	libLabels := []string{"v2", "default", "none", ""} // "" below: label absent
	for i := range benchPods {
		l := map[string]string{templatesKey: "default"}
		if v := libLabels[i%len(libLabels)]; v != "" {
			l[libKey] = v
		}
		meta := metav1.ObjectMeta{Namespace: fmt.Sprintf("team-%03d", i%1000), Name: fmt.Sprintf("ws-%05d", i), GenerateName: "ws-", Labels: l}
		if rollouts {
			l[rollout.LabelWorkspaceID] = workspaceKey(i)
			meta.Annotations = map[string]string{"tilt-lib.platform/injected": injected(both("tilt-lib-v3", []string{"canary", "baseline"}[i%2])...)}
		}
		obj, _ := s.trimPod(&metav1.PartialObjectMetadata{ObjectMeta: meta})
		if err := pods.Add(obj); err != nil {
			b.Fatal(err)
		}
	}
	for i := range tenant {
		add(cms, "tenant", fmt.Sprintf("tilt-lib-t%05d", i), map[string]string{"version": tenantVersion(i)})
	}
	reg := prometheus.NewRegistry()
	r := storeReader{"PodList": pods, "ConfigMapList": cms}
	if _, err := New(reg, r, listedConfigMaps{r, s.VersionLabel, b}, s, nil, logr.Discard()); err != nil {
		b.Fatal(err)
	}
	return reg
}

func BenchmarkCollect(b *testing.B) {
	gather(b, collectRegistry(b, 0, false))
}

// BenchmarkCollectWithRollout: the same scrape when a rollout has placed every Pod, so each
// one's two rollout entries are read and its arm under the rollout in force computed (a bucket
// per entry).
func BenchmarkCollectWithRollout(b *testing.B) {
	gather(b, collectRegistry(b, 0, true))
}

// workspaceKey is workspace i's com.coder.workspace.id.
func workspaceKey(i int) string {
	return fmt.Sprintf("6f1c2a9e-%04d-4b5e-9c1d-2f8a7e3b%04d", i/10000, i%10000)
}

// BenchmarkCollectUnderAttack: a tenant's ConfigMaps beyond --max-configmap-series cost one sort
// of the distinct pairs per scrape, and add one series ("other") instead of one each.
func BenchmarkCollectUnderAttack(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("tenant ConfigMaps %d", n), func(b *testing.B) { gather(b, collectRegistry(b, n, false)) })
	}
}

// gather scrapes reg in a loop and reports the series of the last scrape.
func gather(b *testing.B, reg *prometheus.Registry) {
	series := 0
	b.ReportAllocs()
	for b.Loop() {
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		series = 0
		for _, mf := range mfs {
			series += len(mf.GetMetric())
		}
	}
	b.ReportMetric(float64(series), "series")
}
