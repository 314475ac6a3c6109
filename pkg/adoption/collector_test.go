package adoption

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// published is what the platform team synced: three namespaces, versions differing per namespace.
func published() []client.Object {
	return []client.Object{
		configMap("team-a", "tilt-lib", "1.4.0"),
		configMap("team-a", "tilt-lib-v2", "2.0.1"),
		configMap("team-a", "tilt-lib-v3", "3.0.0"),
		configMap("team-a", "tilt-templates", "1.1.0"),
		configMap("team-a", "tilt-library", "9.9.9"),     // not "<base>" or "<base>-<v>": not ours
		configMap("team-a", "kube-root-ca.crt", "1.0.0"), // not ours
		configMap("team-b", "tilt-lib", "1.4.0"),
		configMap("team-b", "tilt-lib-v2", "2.0.2"),
		configMap("team-b", "tilt-templates", ""), // ours, without a version label
		configMap("team-c", "tilt-lib", "1.4.0"),  // no workspace there: still counted by namespace
	}
}

// TestMapping pins the contract's table: absent -> none, "none" -> skipped, "default" -> <base>,
// "vX" -> <base>-vX with the ConfigMap's version label, a ConfigMap absent from the Pod's own
// namespace -> missing; and configmap_versions counts namespaces per ConfigMap and version.
func TestMapping(t *testing.T) {
	objs := append(published(),
		pod("team-a", "a1", map[string]string{libKey: "v2", templatesKey: "default"}),
		pod("team-a", "a2", map[string]string{libKey: "v2", templatesKey: "none"}),
		pod("team-a", "a3", nil), // admitted while the webhook was down
		pod("team-a", "a4", map[string]string{libKey: "default", templatesKey: "v9"}),
		pod("team-b", "b1", map[string]string{libKey: "v2", templatesKey: "default"}),
		pod("team-b", "b2", map[string]string{libKey: "v3", templatesKey: "default"}), // tilt-lib-v3 only in team-a
	)
	// The same answers whether the ConfigMaps come from the manager's cache (List) or from
	// pkg/lookup's store, which the server uses.
	for name, fx := range map[string]func(testing.TB, func() bool, ...client.Object) *Collector{"cache": fixture, "store": storeFixture} {
		t.Run(name, func(t *testing.T) { expectMapping(t, fx(t, always, objs...)) })
	}
}

func expectMapping(t *testing.T, col prometheus.Collector) {
	expect(t, col, `
		tiltlib_workspace_pods{component="tilt-lib",configmap="tilt-lib-v2",namespace="team-a",version="2.0.1"} 2
		tiltlib_workspace_pods{component="tilt-lib",configmap="none",namespace="team-a",version=""} 1
		tiltlib_workspace_pods{component="tilt-lib",configmap="tilt-lib",namespace="team-a",version="1.4.0"} 1
		tiltlib_workspace_pods{component="tilt-templates",configmap="tilt-templates",namespace="team-a",version="1.1.0"} 1
		tiltlib_workspace_pods{component="tilt-templates",configmap="skipped",namespace="team-a",version=""} 1
		tiltlib_workspace_pods{component="tilt-templates",configmap="none",namespace="team-a",version=""} 1
		tiltlib_workspace_pods{component="tilt-templates",configmap="missing",namespace="team-a",version=""} 1
		tiltlib_workspace_pods{component="tilt-lib",configmap="tilt-lib-v2",namespace="team-b",version="2.0.2"} 1
		tiltlib_workspace_pods{component="tilt-lib",configmap="missing",namespace="team-b",version=""} 1
		tiltlib_workspace_pods{component="tilt-templates",configmap="tilt-templates",namespace="team-b",version=""} 2
		tiltlib_configmap_versions{component="tilt-lib",configmap="tilt-lib",version="1.4.0"} 3
		tiltlib_configmap_versions{component="tilt-lib",configmap="tilt-lib-v2",version="2.0.1"} 1
		tiltlib_configmap_versions{component="tilt-lib",configmap="tilt-lib-v2",version="2.0.2"} 1
		tiltlib_configmap_versions{component="tilt-lib",configmap="tilt-lib-v3",version="3.0.0"} 1
		tiltlib_configmap_versions{component="tilt-templates",configmap="tilt-templates",version="1.1.0"} 1
		tiltlib_configmap_versions{component="tilt-templates",configmap="tilt-templates",version=""} 1
	`, WorkspacePods, ConfigMapVersions)
}

// TestVersionFollowsConfigMap: the mount has no subPath, so a workspace sees the ConfigMap's
// current files; relabelling the ConfigMap moves the Pod's version without touching the Pod.
func TestVersionFollowsConfigMap(t *testing.T) {
	cm := configMap("team-a", "tilt-lib-v2", "2.0.1")
	col := fixture(t, always, cm, pod("team-a", "a1", map[string]string{libKey: "v2", templatesKey: "none"}))
	expect(t, col, `tiltlib_workspace_pods{component="tilt-lib",configmap="tilt-lib-v2",namespace="team-a",version="2.0.1"} 1
		tiltlib_workspace_pods{component="tilt-templates",configmap="skipped",namespace="team-a",version=""} 1`, WorkspacePods)
	cm.Labels["version"] = "2.1.0"
	if err := col.pods.(client.Client).Update(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	pods, _, _, err := col.count()
	if err != nil {
		t.Fatal(err)
	}
	if n := pods[podSeries{"team-a", "tilt-lib", "tilt-lib-v2", "2.1.0"}]; n != 1 || len(pods) != 2 {
		t.Errorf("after relabelling the ConfigMap: %v, want tilt-lib-v2@2.1.0 once (and templates skipped)", pods)
	}
}

// TestUnsyncedEmitsNothing: before the caches sync the collector exports no series at all (a
// partial cache would report zeros or too few Pods); once synced, it does.
func TestUnsyncedEmitsNothing(t *testing.T) {
	synced := false
	col := fixture(t, func() bool { return synced }, append(published(), pod("team-a", "a1", nil))...)
	if n := testutil.CollectAndCount(col); n != 0 {
		t.Fatalf("unsynced caches: %d series exported, want none", n)
	}
	synced = true
	if n := testutil.CollectAndCount(col, WorkspacePods); n != 2 {
		t.Fatalf("synced: %d workspace series, want 2 (lib and templates of a1)", n)
	}
}

// TestLabelValuesBounded: Pod labels are whatever the Pod's creator wrote when the webhook did
// not see it. A forged or long label value becomes "missing" unless that very ConfigMap exists in
// the namespace; only then does its name become a label value.
func TestLabelValuesBounded(t *testing.T) {
	long := "v" + strings.Repeat("x", 62) // 63 characters, the longest label value
	forged := []map[string]string{
		{libKey: "v<garbage>", templatesKey: "none"},
		{libKey: long, templatesKey: "none"},
		{libKey: "", templatesKey: "none"},
		{libKey: "../../etc", templatesKey: "none"},
	}
	objs := published()
	for i, l := range forged {
		objs = append(objs, pod("team-a", "forged-"+string(rune('a'+i)), l))
	}
	col := fixture(t, always, objs...)
	expect(t, col, `tiltlib_workspace_pods{component="tilt-lib",configmap="missing",namespace="team-a",version=""} 4
		tiltlib_workspace_pods{component="tilt-templates",configmap="skipped",namespace="team-a",version=""} 4`, WorkspacePods)

	// The same long label, once the platform publishes that ConfigMap, names it.
	col = fixture(t, always, append(objs, configMap("team-a", "tilt-lib-"+long, "63.0.0"))...)
	pods, _, _, err := col.count()
	if err != nil {
		t.Fatal(err)
	}
	if pods[podSeries{"team-a", "tilt-lib", "tilt-lib-" + long, "63.0.0"}] != 1 || pods[podSeries{"team-a", "tilt-lib", Missing, ""}] != 3 {
		t.Errorf("with tilt-lib-%s published: %v", long, pods)
	}
}
