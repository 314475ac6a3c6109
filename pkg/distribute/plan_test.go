package distribute

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

var now = time.Date(2026, 12, 5, 7, 0, 0, 0, time.UTC)

func settings() Settings {
	return Settings{
		Prefix: "tilt-lib.platform/", Bases: []string{"tilt-lib", "tilt-templates"}, VersionLabel: "version",
		SourceNamespace: "platform", Selector: labels.SelectorFromSet(labels.Set{"workspaces": "true"}),
		Excluded: []string{"tilt-lib-injector"}, Grace: time.Hour, MaxSources: 3, MaxSourceBytes: 100,
	}
}

func ns(name string, selected bool) Namespace {
	l := map[string]string{}
	if selected {
		l["workspaces"] = "true"
	}
	return Namespace{Name: name, Labels: l}
}

// source is a ConfigMap of the source namespace labelled for distribution, with Argo CD tracking
// metadata that must never reach a copy.
func source(name, version string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "platform", Name: name, UID: types.UID("src-" + name),
			Labels: map[string]string{"tilt-lib.platform/distribute": "true", "version": version,
				"app.kubernetes.io/instance": "platform-lib"},
			Annotations: map[string]string{"argocd.argoproj.io/tracking-id": "platform-lib:/ConfigMap:platform/" + name}},
		Data: data,
	}
}

// copyOf is the copy Plan would write of src in namespace, as stored (with a UID and RV).
func copyOf(src *corev1.ConfigMap, namespace string) *corev1.ConfigMap {
	c := settings().render(src, settings().Hash(src), namespace, nil)
	c.UID, c.ResourceVersion = types.UID("copy-"+namespace+"-"+src.Name), "7"
	return c
}

func with(c *corev1.ConfigMap, f func(*corev1.ConfigMap)) *corev1.ConfigMap {
	c = c.DeepCopy()
	f(c)
	return c
}

func orphanedAt(t time.Time) func(*corev1.ConfigMap) {
	return func(c *corev1.ConfigMap) { c.Annotations["tilt-lib.platform/orphaned-at"] = t.Format(time.RFC3339) }
}

// brief renders an action for comparison: kind, namespace/name, and the fields that kind carries.
func brief(a Action) string {
	s := fmt.Sprintf("%s %s/%s", a.Kind, a.Namespace, a.Name)
	switch a.Kind {
	case Update, Delete:
		s += fmt.Sprintf(" uid=%s rv=%s", a.UID, a.ResourceVersion)
	case KeepMounted:
		s += fmt.Sprintf(" mounts=%d", a.Mounts)
	case KeepOrphan:
		s += " until=" + a.Until.Format(time.RFC3339)
	}
	return s
}

func TestPlan(t *testing.T) {
	lib := source("tilt-lib-v2", "v2.0.0", map[string]string{"lib.star": "x"})
	lib2 := source("tilt-lib-v2", "v2.0.0", map[string]string{"lib.star": "y"})
	libV := source("tilt-lib-v2", "v2.0.1", map[string]string{"lib.star": "x"})
	grace := settings().Grace
	cases := []struct {
		name string
		set  func(*Settings)
		in   Input
		want []string
	}{
		{name: "a selected namespace gets every source",
			in:   Input{Sources: []*corev1.ConfigMap{lib, source("tilt-templates", "", nil)}, Namespaces: []Namespace{ns("team-a", true)}},
			want: []string{"create team-a/tilt-lib-v2", "create team-a/tilt-templates"}},
		{name: "an unselected namespace gets nothing",
			in:   Input{Sources: []*corev1.ConfigMap{lib}, Namespaces: []Namespace{ns("team-a", true), ns("team-b", false)}},
			want: []string{"create team-a/tilt-lib-v2"}},
		{name: "the source namespace is never a target",
			in:   Input{Sources: []*corev1.ConfigMap{lib}, Namespaces: []Namespace{ns("platform", true)}},
			want: nil},
		{name: "excluded namespaces are never targets",
			in:   Input{Sources: []*corev1.ConfigMap{lib}, Namespaces: []Namespace{ns("tilt-lib-injector", true), ns("kube-system", true)}},
			want: nil},
		{name: "an unlabelled or foreign-named ConfigMap of the source namespace is no source",
			in: Input{Sources: []*corev1.ConfigMap{with(lib, func(c *corev1.ConfigMap) { delete(c.Labels, "tilt-lib.platform/distribute") }),
				source("kube-root-ca.crt", "", nil), source("tilt-libx", "", nil)}, Namespaces: []Namespace{ns("team-a", true)}},
			want: nil},
		{name: "a ConfigMap outside the source namespace is no source",
			in:   Input{Sources: []*corev1.ConfigMap{with(lib, func(c *corev1.ConfigMap) { c.Namespace = "team-b" })}, Namespaces: []Namespace{ns("team-a", true)}},
			want: nil},
		{name: "a copy in sync is left",
			in:   Input{Sources: []*corev1.ConfigMap{lib}, Namespaces: []Namespace{ns("team-a", true)}, Copies: []*corev1.ConfigMap{copyOf(lib, "team-a")}},
			want: []string{"leave team-a/tilt-lib-v2"}},
		{name: "an edited copy is reverted",
			in: Input{Sources: []*corev1.ConfigMap{lib}, Namespaces: []Namespace{ns("team-a", true)},
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), func(c *corev1.ConfigMap) { c.Data["lib.star"] = "edited" })}},
			want: []string{"update team-a/tilt-lib-v2 uid=copy-team-a-tilt-lib-v2 rv=7"}},
		{name: "an edited binaryData of a copy is reverted",
			in: Input{Sources: []*corev1.ConfigMap{with(lib, func(c *corev1.ConfigMap) { c.BinaryData = map[string][]byte{"b": {1}} })},
				Namespaces: []Namespace{ns("team-a", true)},
				Copies: []*corev1.ConfigMap{with(copyOf(with(lib, func(c *corev1.ConfigMap) { c.BinaryData = map[string][]byte{"b": {1}} }), "team-a"),
					func(c *corev1.ConfigMap) { c.BinaryData["b"] = []byte{2} })}},
			want: []string{"update team-a/tilt-lib-v2 uid=copy-team-a-tilt-lib-v2 rv=7"}},
		{name: "an edited version label of a copy is reverted",
			in: Input{Sources: []*corev1.ConfigMap{lib}, Namespaces: []Namespace{ns("team-a", true)},
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), func(c *corev1.ConfigMap) { c.Labels["version"] = "v9" })}},
			want: []string{"update team-a/tilt-lib-v2 uid=copy-team-a-tilt-lib-v2 rv=7"}},
		{name: "a copy whose hash annotation was edited is rewritten",
			in: Input{Sources: []*corev1.ConfigMap{lib}, Namespaces: []Namespace{ns("team-a", true)},
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), func(c *corev1.ConfigMap) { c.Annotations["tilt-lib.platform/content-hash"] = "x" })}},
			want: []string{"update team-a/tilt-lib-v2 uid=copy-team-a-tilt-lib-v2 rv=7"}},
		{name: "a copy made immutable is rewritten mutable",
			in: Input{Sources: []*corev1.ConfigMap{lib}, Namespaces: []Namespace{ns("team-a", true)},
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), func(c *corev1.ConfigMap) { c.Immutable = new(bool) })}},
			want: []string{"update team-a/tilt-lib-v2 uid=copy-team-a-tilt-lib-v2 rv=7"}},
		{name: "source data changes propagate",
			in:   Input{Sources: []*corev1.ConfigMap{lib2}, Namespaces: []Namespace{ns("team-a", true)}, Copies: []*corev1.ConfigMap{copyOf(lib, "team-a")}},
			want: []string{"update team-a/tilt-lib-v2 uid=copy-team-a-tilt-lib-v2 rv=7"}},
		{name: "source version-label changes propagate",
			in:   Input{Sources: []*corev1.ConfigMap{libV}, Namespaces: []Namespace{ns("team-a", true)}, Copies: []*corev1.ConfigMap{copyOf(lib, "team-a")}},
			want: []string{"update team-a/tilt-lib-v2 uid=copy-team-a-tilt-lib-v2 rv=7"}},
		{name: "an unmanaged same-named ConfigMap is a conflict, never written",
			in: Input{Sources: []*corev1.ConfigMap{lib}, Namespaces: []Namespace{ns("team-a", true)},
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), func(c *corev1.ConfigMap) { delete(c.Labels, ManagedByLabel) })}},
			want: []string{"conflict team-a/tilt-lib-v2"}},
		{name: "an adopted clash is managed",
			in: Input{Sources: []*corev1.ConfigMap{lib2}, Namespaces: []Namespace{ns("team-a", true)},
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), func(c *corev1.ConfigMap) { delete(c.Labels, ManagedByLabel) }), copyOf(lib, "team-a")}},
			want: []string{"update team-a/tilt-lib-v2 uid=copy-team-a-tilt-lib-v2 rv=7"}},
		{name: "an adopted clash is managed, whichever the controller listed first",
			in: Input{Sources: []*corev1.ConfigMap{lib2}, Namespaces: []Namespace{ns("team-a", true)},
				Copies: []*corev1.ConfigMap{copyOf(lib, "team-a"), with(copyOf(lib, "team-a"), func(c *corev1.ConfigMap) { delete(c.Labels, ManagedByLabel) })}},
			want: []string{"update team-a/tilt-lib-v2 uid=copy-team-a-tilt-lib-v2 rv=7"}},
		{name: "a ConfigMap labelled managed-by alone is adopted",
			in: Input{Sources: []*corev1.ConfigMap{lib}, Namespaces: []Namespace{ns("team-a", true)},
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), func(c *corev1.ConfigMap) { delete(c.Labels, "tilt-lib.platform/source-namespace") })}},
			want: []string{"update team-a/tilt-lib-v2 uid=copy-team-a-tilt-lib-v2 rv=7"}},
		{name: "another source namespace's copy is a conflict, never written",
			in: Input{Sources: []*corev1.ConfigMap{lib}, Namespaces: []Namespace{ns("team-a", true)},
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), func(c *corev1.ConfigMap) { c.Labels["tilt-lib.platform/source-namespace"] = "other" })}},
			want: []string{"conflict team-a/tilt-lib-v2"}},
		{name: "another source namespace's copy nothing here wants is never orphaned",
			in: Input{Namespaces: []Namespace{ns("team-a", true)}, Now: now,
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), func(c *corev1.ConfigMap) { c.Labels["tilt-lib.platform/source-namespace"] = "other" })}},
			want: nil},
		{name: "a managed-by-only ConfigMap nothing wants is never orphaned",
			in: Input{Namespaces: []Namespace{ns("team-a", true)}, Now: now,
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), func(c *corev1.ConfigMap) { delete(c.Labels, "tilt-lib.platform/source-namespace") })}},
			want: nil},
		{name: "an unmanaged ConfigMap nothing wants is ignored",
			in: Input{Namespaces: []Namespace{ns("team-a", true)},
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), func(c *corev1.ConfigMap) { delete(c.Labels, ManagedByLabel) })}},
			want: nil},
		{name: "a managed ConfigMap in the source namespace is never touched",
			in:   Input{Namespaces: []Namespace{ns("platform", true)}, Copies: []*corev1.ConfigMap{copyOf(lib, "platform")}},
			want: nil},
		{name: "a copy whose source is gone is marked orphaned",
			in:   Input{Namespaces: []Namespace{ns("team-a", true)}, Copies: []*corev1.ConfigMap{copyOf(lib, "team-a")}, Now: now},
			want: []string{"mark_orphaned team-a/tilt-lib-v2"}},
		{name: "a copy in a deselected namespace is marked orphaned",
			in:   Input{Sources: []*corev1.ConfigMap{lib}, Namespaces: []Namespace{ns("team-a", false)}, Copies: []*corev1.ConfigMap{copyOf(lib, "team-a")}, Now: now},
			want: []string{"mark_orphaned team-a/tilt-lib-v2"}},
		{name: "an orphan within its grace is kept",
			in: Input{Namespaces: []Namespace{ns("team-a", true)}, Now: now,
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), orphanedAt(now.Add(-grace+time.Second)))}},
			want: []string{"keep_orphan team-a/tilt-lib-v2 until=2026-12-05T07:00:01Z"}},
		{name: "an orphan past its grace waits for a fresh Pod list",
			in: Input{Namespaces: []Namespace{ns("team-a", true)}, Now: now,
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), orphanedAt(now.Add(-grace)))}},
			want: []string{"await_pods team-a/tilt-lib-v2"}},
		{name: "an orphan past its grace that live Pods mount is kept",
			in: Input{Namespaces: []Namespace{ns("team-a", true)}, Now: now, Mounts: map[string]map[string]int{"team-a": {"tilt-lib-v2": 2}},
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), orphanedAt(now.Add(-grace)))}},
			want: []string{"keep_mounted team-a/tilt-lib-v2 mounts=2"}},
		{name: "an orphan past its grace that no Pod mounts is deleted with preconditions",
			in: Input{Namespaces: []Namespace{ns("team-a", true)}, Now: now, Mounts: map[string]map[string]int{"team-a": {"tilt-lib-v3": 1}},
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), orphanedAt(now.Add(-grace)))}},
			want: []string{"delete team-a/tilt-lib-v2 uid=copy-team-a-tilt-lib-v2 rv=7"}},
		{name: "a source that returns clears the orphan mark",
			in: Input{Sources: []*corev1.ConfigMap{lib}, Namespaces: []Namespace{ns("team-a", true)}, Now: now,
				Copies: []*corev1.ConfigMap{with(copyOf(lib, "team-a"), orphanedAt(now.Add(-grace)))}},
			want: []string{"update team-a/tilt-lib-v2 uid=copy-team-a-tilt-lib-v2 rv=7"}},
		{name: "sources up to --max-sources are distributed",
			in: Input{Sources: []*corev1.ConfigMap{source("tilt-lib-a", "", nil), source("tilt-lib-b", "", nil), source("tilt-lib-c", "", nil)},
				Namespaces: []Namespace{ns("team-a", true)}},
			want: []string{"create team-a/tilt-lib-a", "create team-a/tilt-lib-b", "create team-a/tilt-lib-c"}},
		{name: "a source past --max-sources is refused and its copies are left, not orphaned",
			in: Input{Sources: []*corev1.ConfigMap{source("tilt-lib-a", "", nil), source("tilt-lib-b", "", nil), source("tilt-lib-c", "", nil), source("tilt-lib-d", "", nil)},
				Namespaces: []Namespace{ns("team-a", true), ns("team-b", false)}, Now: now,
				Copies: []*corev1.ConfigMap{copyOf(source("tilt-lib-d", "", nil), "team-b")}},
			want: []string{"create team-a/tilt-lib-a", "create team-a/tilt-lib-b", "create team-a/tilt-lib-c", "refused team-a/tilt-lib-d", "refused team-b/tilt-lib-d"}},
		{name: "a source of --max-source-bytes is distributed",
			in:   Input{Sources: []*corev1.ConfigMap{source("tilt-lib", "", map[string]string{"k": strings.Repeat("x", 99)})}, Namespaces: []Namespace{ns("team-a", true)}},
			want: []string{"create team-a/tilt-lib"}},
		{name: "a source over --max-source-bytes is refused",
			in: Input{Sources: []*corev1.ConfigMap{with(source("tilt-lib", "", map[string]string{"k": strings.Repeat("x", 98)}),
				func(c *corev1.ConfigMap) { c.BinaryData = map[string][]byte{"b": {0}} })}, Namespaces: []Namespace{ns("team-a", true)}},
			want: []string{"refused team-a/tilt-lib"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := settings()
			if tc.set != nil {
				tc.set(&s)
			}
			var got []string
			for _, a := range Plan(s, tc.in) {
				got = append(got, brief(a))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
