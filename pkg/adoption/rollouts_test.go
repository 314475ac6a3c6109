package adoption

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/rollout"
	"github.com/platform-tools/tilt-lib-injector/pkg/versions"
)

// Keys whose buckets under salt tilt-lib-v3 come from pkg/rollout's oracle table
// (testdata/buckets.tsv, computed by buckets.py): in the canary at 10 % (999) and just out of it
// (1000, in at 10.01 %).
const (
	keyIn  = "ws-3386" // bucket 999
	keyOut = "ws-2121" // bucket 1000
)

// rolloutDoc: tilt-lib-v3 moves both components from stable (v2) to v3 at 10 %; edge-v4 moves
// tilt-templates from edge to v4 at 100 %, only in team-c.
const rolloutDoc = `aliases: {stable: v2, edge: v3}
rollouts:
- {name: tilt-lib-v3, from: stable, to: v3, percent: "%s"}
- {name: edge-v4, from: edge, to: v4, components: [tilt-templates], percent: "100", namespaces: [team-c]}
`

func liveDoc(t testing.TB, doc string) *versions.Live {
	t.Helper()
	l := versions.NewLive(mutate.DefaultOptions())
	if _, err := l.Apply([]byte(doc), true); err != nil {
		t.Fatal(err)
	}
	return l
}

// entry is one component's rollout entry of an injected record.
type entry struct{ component, rollout, arm string }

// injected writes an injected record (docs/design.md, "Which version a Pod gets" and "Sticky
// canary rollouts") naming the entries' rollouts: the shape written down again on purpose, as the
// oracle of what the webhook writes (TestTrimReadsWhatMutateWrites checks mutate's own).
func injected(es ...entry) string {
	var b strings.Builder
	b.WriteByte('{')
	for _, e := range es {
		fmt.Fprintf(&b, `%q:{"configMap":"tilt-lib-v2","version":"2.0.1","source":"namespace","rollout":{"name":%q,"arm":%q,"bucket":999,"threshold":1000}},`, e.component, e.rollout, e.arm)
	}
	b.WriteString(`"containers":["dev"]}`)
	return b.String()
}

// rolloutPod is a workspace Pod of ns named name (generated from "coder-" when generated), with
// the workspace id key ("" for none) and an injected record of es, as the informer would store
// it: trimmed by s.
func rolloutPod(t *testing.T, s Settings, ns, name string, generated bool, key string, es ...entry) *corev1.Pod {
	t.Helper()
	p := pod(ns, name, map[string]string{libKey: "v2", templatesKey: "v2"})
	if generated {
		p.GenerateName = "coder-"
	}
	if key != "" {
		p.Labels[rollout.LabelWorkspaceID] = key
	}
	if len(es) > 0 {
		p.Annotations = map[string]string{"tilt-lib.platform/injected": injected(es...)}
	}
	out, err := s.trimPod(&metav1.PartialObjectMetadata{ObjectMeta: p.ObjectMeta})
	if err != nil {
		t.Fatal(err)
	}
	p.ObjectMeta = out.(*metav1.PartialObjectMetadata).ObjectMeta
	return p
}

// both is an entry of rollout r with arm a for both components.
func both(r, a string) []entry {
	return []entry{{"tilt-lib", r, a}, {"tilt-templates", r, a}}
}

func rolloutFixture(t *testing.T, s Settings, objs ...client.Object) *Collector {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(objs...).Build()
	col, err := New(prometheus.NewRegistry(), c, listedConfigMaps{c, s.VersionLabel, t}, s, always, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	return col
}

// zeros are the series of rolloutDoc with no Pod in them (every arm of every component each
// rollout moves), over which want's lines are laid.
func zeros(want string) string {
	lines := map[string]string{}
	for _, s := range []struct{ r, c string }{{"tilt-lib-v3", "tilt-lib"}, {"tilt-lib-v3", "tilt-templates"}, {"edge-v4", "tilt-templates"}} {
		for _, a := range arms {
			k := fmt.Sprintf(`tiltlib_rollout_workspaces{arm="%s",component="%s",rollout="%s"}`, a, s.c, s.r)
			lines[k] = k + " 0"
		}
	}
	var extra []string
	for _, l := range strings.Split(want, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		k := l[:strings.LastIndexByte(l, ' ')]
		if _, ok := lines[k]; ok {
			lines[k] = l
		} else {
			extra = append(extra, l)
		}
	}
	var out []string
	for _, l := range lines {
		out = append(out, l)
	}
	return strings.Join(append(out, extra...), "\n")
}

// TestRolloutWorkspacesArms: a Pod in each arm, each arm checked. The recorded arm against the
// arm a restart would run now under the rollout in force: canary/canary canary, baseline/baseline
// baseline, baseline/canary pending, canary/baseline reverted; no_key and unavailable stay.
func TestRolloutWorkspacesArms(t *testing.T) {
	s := testSettings()
	s.Versions = liveDoc(t, fmt.Sprintf(rolloutDoc, "10"))
	const v3 = "tilt-lib-v3"
	objs := []client.Object{
		configMap("team-a", "tilt-lib-v3", "3.0.0"), configMap("team-a", "tilt-templates-v3", "3.0.0"),
		configMap("team-b", "tilt-templates-v3", "3.0.0"), // team-b lacks tilt-lib-v3
		configMap("team-c", "tilt-templates-v4", "4.0.0"), configMap("team-a", "tilt-templates-v4", "4.0.0"),
		rolloutPod(t, s, "team-a", "canary", true, keyIn, both(v3, "canary")...),
		rolloutPod(t, s, "team-a", "baseline", true, keyOut, both(v3, "baseline")...),
		// Admitted at a lower percent on the baseline; its bucket is in at 10 %.
		rolloutPod(t, s, "team-a", "pending", true, keyIn, both(v3, "baseline")...),
		// Admitted at a higher percent in the canary; its bucket is out at 10 %.
		rolloutPod(t, s, "team-a", "reverted", true, keyOut, both(v3, "canary")...),
		// A generated name and no label: no key.
		rolloutPod(t, s, "team-a", "coder-x7k2p", true, "", both(v3, "no_key")...),
		rolloutPod(t, s, "team-a", "unavailable", true, keyIn, both(v3, "unavailable")...),
		// team-b: in the canary by its bucket, but a restart finds no tilt-lib-v3 there: tilt-lib
		// stays baseline (it would be unavailable), tilt-templates is pending.
		rolloutPod(t, s, "team-b", "blocked", true, keyIn, both(v3, "baseline")...),
		// A chosen name is the key: team-a/pinned-name, bucket 555 (the spec's formula, computed
		// in Python): in at 10 %, so a baseline of it is pending.
		rolloutPod(t, s, "team-a", "pinned-name", false, "", entry{"tilt-lib", v3, "baseline"}),
		// edge-v4 applies only in team-c (canary at 100 %): a canary of it in team-a reverts,
		// though tilt-templates-v4 is published there too.
		rolloutPod(t, s, "team-c", "edge", true, keyOut, entry{"tilt-templates", "edge-v4", "canary"}),
		rolloutPod(t, s, "team-a", "edge-elsewhere", true, keyOut, entry{"tilt-templates", "edge-v4", "canary"}),
		// Not counted: a rollout not in the document, no record, a record without rollout.
		rolloutPod(t, s, "team-a", "gone", true, keyIn, both("tilt-lib-v2", "canary")...),
		rolloutPod(t, s, "team-a", "plain", true, keyIn),
	}
	col := rolloutFixture(t, s, objs...)
	expectRollouts(t, col, zeros(`
		tiltlib_rollout_workspaces{arm="canary",component="tilt-lib",rollout="tilt-lib-v3"} 1
		tiltlib_rollout_workspaces{arm="canary",component="tilt-templates",rollout="tilt-lib-v3"} 1
		tiltlib_rollout_workspaces{arm="baseline",component="tilt-lib",rollout="tilt-lib-v3"} 2
		tiltlib_rollout_workspaces{arm="baseline",component="tilt-templates",rollout="tilt-lib-v3"} 1
		tiltlib_rollout_workspaces{arm="pending",component="tilt-lib",rollout="tilt-lib-v3"} 2
		tiltlib_rollout_workspaces{arm="pending",component="tilt-templates",rollout="tilt-lib-v3"} 2
		tiltlib_rollout_workspaces{arm="reverted",component="tilt-lib",rollout="tilt-lib-v3"} 1
		tiltlib_rollout_workspaces{arm="reverted",component="tilt-templates",rollout="tilt-lib-v3"} 1
		tiltlib_rollout_workspaces{arm="no_key",component="tilt-lib",rollout="tilt-lib-v3"} 1
		tiltlib_rollout_workspaces{arm="no_key",component="tilt-templates",rollout="tilt-lib-v3"} 1
		tiltlib_rollout_workspaces{arm="unavailable",component="tilt-lib",rollout="tilt-lib-v3"} 1
		tiltlib_rollout_workspaces{arm="unavailable",component="tilt-templates",rollout="tilt-lib-v3"} 1
		tiltlib_rollout_workspaces{arm="canary",component="tilt-templates",rollout="edge-v4"} 1
		tiltlib_rollout_workspaces{arm="reverted",component="tilt-templates",rollout="edge-v4"} 1
	`))
}

func expectRollouts(t *testing.T, col prometheus.Collector, want string) {
	t.Helper()
	text := "# HELP " + RolloutWorkspaces + " " + rolloutWorkspacesHelp + "\n# TYPE " + RolloutWorkspaces + " gauge\n"
	for _, l := range strings.Split(want, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			text += l + "\n"
		}
	}
	if err := testutil.CollectAndCompare(col, strings.NewReader(text), RolloutWorkspaces); err != nil {
		t.Error(err)
	}
}

// TestRolloutWorkspacesFollowTheDocument: the gauge is read against the snapshot in force at each
// scrape: raising the percent to 10.01 makes the baseline of bucket 1000 pending; a rollout
// deleted from the document loses every series (its Pods are no longer counted); without any
// rollout, or without the versions document, nothing is exported.
func TestRolloutWorkspacesFollowTheDocument(t *testing.T) {
	s := testSettings()
	live := liveDoc(t, fmt.Sprintf(rolloutDoc, "10"))
	s.Versions = live
	col := rolloutFixture(t, s, configMap("team-a", "tilt-lib-v3", "3.0.0"),
		rolloutPod(t, s, "team-a", "baseline", true, keyOut, entry{"tilt-lib", "tilt-lib-v3", "baseline"}))
	expectRollouts(t, col, zeros(`tiltlib_rollout_workspaces{arm="baseline",component="tilt-lib",rollout="tilt-lib-v3"} 1`))

	if _, err := live.Apply([]byte(fmt.Sprintf(rolloutDoc, "10.01")), true); err != nil {
		t.Fatal(err)
	}
	expectRollouts(t, col, zeros(`tiltlib_rollout_workspaces{arm="pending",component="tilt-lib",rollout="tilt-lib-v3"} 1`))

	if _, err := live.Apply([]byte("aliases: {stable: v2, edge: v3}\nrollouts:\n- {name: edge-v4, from: edge, to: v4, components: [tilt-templates], percent: \"100\", namespaces: [team-c]}\n"), true); err != nil {
		t.Fatal(err)
	}
	var edgeOnly []string
	for _, a := range arms {
		edgeOnly = append(edgeOnly, fmt.Sprintf(`tiltlib_rollout_workspaces{arm="%s",component="tilt-templates",rollout="edge-v4"} 0`, a))
	}
	expectRollouts(t, col, strings.Join(edgeOnly, "\n"))

	if _, err := live.Apply([]byte("aliases: {stable: v2}\n"), true); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(col, RolloutWorkspaces); n != 0 {
		t.Errorf("no rollout in force: %d series", n)
	}
	s.Versions = nil
	if n := testutil.CollectAndCount(rolloutFixture(t, s), RolloutWorkspaces); n != 0 {
		t.Errorf("no versions document: %d series", n)
	}
}

// TestTrimRollouts: a Pod keeps its rollout entries, generateName and key labels, and nothing
// else of its record; an entry no series may carry (an unknown component, a rollout name that is
// not a DNS label or too long, an arm outside the set) is dropped; a Pod without rollout entries,
// or any Pod when no versions document is served, keeps nothing more than before.
func TestTrimRollouts(t *testing.T) {
	s := testSettings()
	s.Versions = liveDoc(t, fmt.Sprintf(rolloutDoc, "10"))
	long := strings.Repeat("r", versions.MaxRolloutName)
	meta := metav1.ObjectMeta{Name: "coder-x7k2p", GenerateName: "coder-", Namespace: "team-a",
		Labels: map[string]string{libKey: "v2", rollout.LabelWorkspaceID: "w1", rollout.LabelUserID: "u1", "other": "x"},
		Annotations: map[string]string{"tilt-lib.platform/injected": injected(entry{"tilt-lib", "tilt-lib-v3", "canary"},
			entry{"tilt-templates", long, "reverted"}, entry{"tilt-third", "tilt-lib-v3", "canary"}),
			"other": "y"}}
	trim := func(s Settings, m metav1.ObjectMeta) metav1.ObjectMeta {
		out, err := s.trimPod(&metav1.PartialObjectMetadata{ObjectMeta: m})
		if err != nil {
			t.Fatal(err)
		}
		return out.(*metav1.PartialObjectMetadata).ObjectMeta
	}
	want := metav1.ObjectMeta{Name: "coder-x7k2p", GenerateName: "coder-", Namespace: "team-a",
		Labels:      map[string]string{libKey: "v2", rollout.LabelWorkspaceID: "w1", rollout.LabelUserID: "u1"},
		Annotations: map[string]string{trimmedRollouts: "tilt-lib/tilt-lib-v3/canary,tilt-templates/" + long + "/reverted"}}
	if got := trim(s, meta); !reflect.DeepEqual(got, want) {
		t.Errorf("trimmed\n got %+v\nwant %+v", got, want)
	}
	for _, bad := range []entry{{"tilt-lib", long + "r", "canary"}, {"tilt-lib", "Not_A_Label", "canary"}, {"tilt-lib", "tilt-lib-v3", "bogus"}, {"tilt-third", "tilt-lib-v3", "canary"}} {
		m := meta
		m.Annotations = map[string]string{"tilt-lib.platform/injected": injected(bad)}
		if got := trim(s, m); got.Annotations != nil || got.GenerateName != "" || len(got.Labels) != 1 {
			t.Errorf("entry %+v: kept %+v", bad, got)
		}
	}
	for name, m := range map[string]map[string]string{
		"no record":          nil,
		"unreadable record":  {"tilt-lib.platform/injected": `{"rollout":`},
		"record, no rollout": {"tilt-lib.platform/injected": `{"tilt-lib":{"configMap":"tilt-lib","version":"","source":"default"},"containers":["dev"]}`},
	} {
		mm := meta
		mm.Annotations = m
		if got := trim(s, mm); got.Annotations != nil || got.GenerateName != "" || len(got.Labels) != 1 {
			t.Errorf("%s: kept %+v", name, got)
		}
	}
	s.Versions = nil
	if got := trim(s, meta); got.Annotations != nil || got.GenerateName != "" || len(got.Labels) != 1 {
		t.Errorf("no versions document: kept %+v", got)
	}
}

// TestTrimReadsWhatMutateWrites: the record as pkg/mutate writes it (its own MarshalJSON) is read
// by the trim: the two sides agree on the rollout entry's shape.
func TestTrimReadsWhatMutateWrites(t *testing.T) {
	s := testSettings()
	s.Versions = liveDoc(t, fmt.Sprintf(rolloutDoc, "10"))
	rec := mutate.Record{Components: []mutate.RecordEntry{
		{Component: "tilt-lib", RecordComponent: mutate.RecordComponent{ConfigMap: "tilt-lib-v3", Version: "3.0.0", Source: mutate.SourceRollout,
			Rollout: &mutate.RecordRollout{Name: "tilt-lib-v3", Arm: rollout.ArmCanary, Bucket: 999, Threshold: 1000}}},
		{Component: "tilt-templates", RecordComponent: mutate.RecordComponent{ConfigMap: "tilt-templates", Version: "1.1.0", Source: mutate.SourceNamespace}},
	}, Containers: []string{"dev"}}
	raw, err := rec.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.trimRollouts(map[string]string{"tilt-lib.platform/injected": string(raw)}); got != "tilt-lib/tilt-lib-v3/canary" {
		t.Errorf("trimRollouts(%s) = %q", raw, got)
	}
}
