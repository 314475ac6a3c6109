package distribute

import (
	"errors"
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// TestCopyContent: a copy holds data, binaryData, the version label, our labels and the content
// hash, and nothing else of the source (no Argo CD tracking), and is never immutable.
func TestCopyContent(t *testing.T) {
	s := settings()
	src := source("tilt-lib-v2", "v2.0.0", map[string]string{"lib.star": "x"})
	src.BinaryData = map[string][]byte{"blob": {1, 2}}
	immutable := true
	src.Immutable = &immutable
	acts := Plan(s, Input{Sources: []*corev1.ConfigMap{src}, Namespaces: []Namespace{ns("team-a", true)}})
	if len(acts) != 1 || acts[0].Kind != Create {
		t.Fatalf("want one create, got %+v", acts)
	}
	c := acts[0].Object
	wantLabels := map[string]string{ManagedByLabel: ManagedBy, "tilt-lib.platform/source-namespace": "platform", "version": "v2.0.0"}
	if !maps.Equal(c.Labels, wantLabels) {
		t.Errorf("labels %v, want %v", c.Labels, wantLabels)
	}
	wantAnn := map[string]string{"tilt-lib.platform/content-hash": s.Hash(src)}
	if !maps.Equal(c.Annotations, wantAnn) {
		t.Errorf("annotations %v, want %v", c.Annotations, wantAnn)
	}
	if c.Namespace != "team-a" || c.Name != "tilt-lib-v2" || c.Immutable != nil || c.UID != "" {
		t.Errorf("identity/immutable wrong: %s/%s immutable=%v uid=%q", c.Namespace, c.Name, c.Immutable, c.UID)
	}
	if !maps.Equal(c.Data, src.Data) || string(c.BinaryData["blob"]) != string(src.BinaryData["blob"]) || len(c.BinaryData) != 1 {
		t.Errorf("content %v %v, want %v %v", c.Data, c.BinaryData, src.Data, src.BinaryData)
	}
	if s.Hash(c) != s.Hash(src) {
		t.Error("the copy does not hash like its source")
	}
	// Writing the copy must not alias the source.
	c.Data["lib.star"] = "changed"
	if src.Data["lib.star"] != "x" {
		t.Error("the copy shares the source's data map")
	}
}

// TestUpdateKeepsForeignMetadata: an update lays ours over the copy's metadata, keeping a
// human's label, dropping a version label the source no longer has and the orphan mark.
func TestUpdateKeepsForeignMetadata(t *testing.T) {
	s := settings()
	src := source("tilt-lib", "", map[string]string{"a": "1"})
	delete(src.Labels, "version")
	cur := with(copyOf(source("tilt-lib", "v1", nil), "team-a"), func(c *corev1.ConfigMap) {
		c.Labels["team"] = "a"
		c.Annotations["tilt-lib.platform/orphaned-at"] = now.Format(time.RFC3339)
	})
	acts := Plan(s, Input{Sources: []*corev1.ConfigMap{src}, Namespaces: []Namespace{ns("team-a", true)}, Copies: []*corev1.ConfigMap{cur}})
	if len(acts) != 1 || acts[0].Kind != Update {
		t.Fatalf("want one update, got %+v", acts)
	}
	o := acts[0].Object
	if o.Labels["team"] != "a" || o.Labels["version"] != "" || o.Annotations["tilt-lib.platform/orphaned-at"] != "" {
		t.Errorf("update metadata: labels %v annotations %v", o.Labels, o.Annotations)
	}
	if o.UID != cur.UID || o.ResourceVersion != cur.ResourceVersion {
		t.Errorf("update lost the preconditions: uid %q rv %q", o.UID, o.ResourceVersion)
	}
	if cur.Labels["team"] != "a" || cur.Annotations["tilt-lib.platform/orphaned-at"] == "" {
		t.Error("Plan modified its input")
	}
}

func TestMarkOrphanedStampsNow(t *testing.T) {
	s := settings()
	cur := copyOf(source("tilt-lib", "v1", nil), "team-a")
	acts := Plan(s, Input{Namespaces: []Namespace{ns("team-a", true)}, Copies: []*corev1.ConfigMap{cur}, Now: now})
	if len(acts) != 1 || acts[0].Object.Annotations["tilt-lib.platform/orphaned-at"] != now.Format(time.RFC3339) {
		t.Fatalf("want a mark at %s, got %+v", now, acts)
	}
	if _, ok := cur.Annotations["tilt-lib.platform/orphaned-at"]; ok {
		t.Error("Plan modified its input")
	}
}

func TestNeedsPods(t *testing.T) {
	s := settings()
	lib := source("tilt-lib", "", nil)
	in := Input{Namespaces: []Namespace{ns("a", true), ns("b", true), ns("c", true)}, Now: now,
		Copies: []*corev1.ConfigMap{
			with(copyOf(lib, "a"), orphanedAt(now.Add(-2*time.Hour))),
			with(copyOf(source("tilt-templates", "", nil), "a"), orphanedAt(now.Add(-2*time.Hour))),
			with(copyOf(lib, "b"), orphanedAt(now)), // within its grace
			with(copyOf(lib, "c"), orphanedAt(now.Add(-2*time.Hour))),
		},
		Mounts: map[string]map[string]int{"a": {}}} // a stale Mounts must not hide a namespace
	got := NeedsPods(s, in)
	if len(got) != 2 || got[0] != "a" || got[1] != "c" {
		t.Errorf("NeedsPods = %v, want [a c]", got)
	}
}

func TestCountMounts(t *testing.T) {
	cmVol := func(name string) corev1.Volume {
		return corev1.Volume{VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}}
	}
	projected := corev1.Volume{VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "tilt-templates"}}}}}}}
	pod := func(phase corev1.PodPhase, vols ...corev1.Volume) corev1.Pod {
		return corev1.Pod{Spec: corev1.PodSpec{Volumes: vols}, Status: corev1.PodStatus{Phase: phase}}
	}
	got := CountMounts([]corev1.Pod{
		pod(corev1.PodRunning, cmVol("tilt-lib"), cmVol("tilt-lib")), // twice in one Pod: one Pod
		pod(corev1.PodPending, cmVol("tilt-lib"), projected),
		pod("", projected), // a stored Pod no kubelet has reported on is live
		pod(corev1.PodSucceeded, cmVol("tilt-lib")),
		pod(corev1.PodFailed, cmVol("tilt-lib")),
	})
	want := map[string]int{"tilt-lib": 2, "tilt-templates": 2}
	if !maps.Equal(got, want) {
		t.Errorf("CountMounts = %v, want %v", got, want)
	}
}

func TestHashCoversEveryField(t *testing.T) {
	s := settings()
	base := source("tilt-lib", "v1", map[string]string{"a": "bc"})
	variants := map[string]*corev1.ConfigMap{
		"data value":    with(base, func(c *corev1.ConfigMap) { c.Data["a"] = "bd" }),
		"data split":    with(base, func(c *corev1.ConfigMap) { c.Data = map[string]string{"ab": "c"} }),
		"binary":        with(base, func(c *corev1.ConfigMap) { c.BinaryData = map[string][]byte{"a": []byte("bc")} }),
		"binary key":    with(base, func(c *corev1.ConfigMap) { c.BinaryData = map[string][]byte{"b": []byte("bc")} }),
		"version":       with(base, func(c *corev1.ConfigMap) { c.Labels["version"] = "v2" }),
		"no version":    with(base, func(c *corev1.ConfigMap) { delete(c.Labels, "version") }),
		"empty version": with(base, func(c *corev1.ConfigMap) { c.Labels["version"] = "" }),
	}
	seen := map[string]string{s.Hash(base): "base"}
	for name, v := range variants {
		h := s.Hash(v)
		if prev, dup := seen[h]; dup {
			t.Errorf("%s hashes like %s", name, prev)
		}
		seen[h] = name
	}
	other := with(base, func(c *corev1.ConfigMap) { c.Labels["team"] = "x"; c.Annotations["y"] = "z" })
	if s.Hash(other) != s.Hash(base) {
		t.Error("labels other than the version label change the hash")
	}
}

func TestSettingsValidate(t *testing.T) {
	if err := settings().Validate(); err != nil {
		t.Fatalf("valid settings refused: %v", err)
	}
	for name, f := range map[string]func(*Settings){
		"empty selector":        func(s *Settings) { s.Selector = labels.Everything() },
		"nil selector":          func(s *Settings) { s.Selector = nil },
		"no source namespace":   func(s *Settings) { s.SourceNamespace = "" },
		"no bases":              func(s *Settings) { s.Bases = nil },
		"negative grace":        func(s *Settings) { s.Grace = -time.Second },
		"zero sources":          func(s *Settings) { s.MaxSources = 0 },
		"too many sources":      func(s *Settings) { s.MaxSources = MaxMaxSources + 1 },
		"zero bytes":            func(s *Settings) { s.MaxSourceBytes = 0 },
		"more than a ConfigMap": func(s *Settings) { s.MaxSourceBytes = DefaultMaxSourceBytes + 1 },
	} {
		s := settings()
		f(&s)
		if err := s.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", name, err)
		}
	}
	for name, f := range map[string]func(*Settings){
		"max sources at bound": func(s *Settings) { s.MaxSources = MaxMaxSources },
		"max bytes at bound":   func(s *Settings) { s.MaxSourceBytes = DefaultMaxSourceBytes },
		"zero grace":           func(s *Settings) { s.Grace = 0 },
	} {
		s := settings()
		f(&s)
		if err := s.Validate(); err != nil {
			t.Errorf("%s: refused: %v", name, err)
		}
	}
}

// TestCopiesCarryTheMarker: with the webhook's --configmap-selector reading a marker label, a copy
// carries the source's marker (else the webhook would treat every copy as absent); a copy whose
// marker was edited or removed is out of sync and updated back; without marker labels the hash is
// what it always was.
func TestCopiesCarryTheMarker(t *testing.T) {
	s := settings()
	s.MarkerLabels = []string{"tilt-lib.platform/published"}
	src := source("tilt-lib-v2", "v2.0.0", map[string]string{"lib.star": "x"})
	src.Labels["tilt-lib.platform/published"] = "true"
	acts := Plan(s, Input{Sources: []*corev1.ConfigMap{src}, Namespaces: []Namespace{ns("team-a", true)}})
	if len(acts) != 1 || acts[0].Kind != Create || acts[0].Object.Labels["tilt-lib.platform/published"] != "true" {
		t.Fatalf("want one create carrying the marker, got %+v", acts)
	}
	good := acts[0].Object
	good.UID, good.ResourceVersion = "copy", "7"
	for name, cur := range map[string]*corev1.ConfigMap{
		"marker edited":  with(good, func(c *corev1.ConfigMap) { c.Labels["tilt-lib.platform/published"] = "false" }),
		"marker removed": with(good, func(c *corev1.ConfigMap) { delete(c.Labels, "tilt-lib.platform/published") }),
	} {
		acts := Plan(s, Input{Sources: []*corev1.ConfigMap{src}, Namespaces: []Namespace{ns("team-a", true)}, Copies: []*corev1.ConfigMap{cur}})
		if len(acts) != 1 || acts[0].Kind != Update || acts[0].Object.Labels["tilt-lib.platform/published"] != "true" {
			t.Errorf("%s: want an update restoring the marker, got %+v", name, acts)
		}
	}
	acts = Plan(s, Input{Sources: []*corev1.ConfigMap{src}, Namespaces: []Namespace{ns("team-a", true)}, Copies: []*corev1.ConfigMap{good}})
	if len(acts) != 1 || acts[0].Kind != Leave {
		t.Errorf("a copy with the source's marker: want leave, got %+v", acts)
	}
	if settings().Hash(src) == s.Hash(src) {
		t.Error("the marker does not change the content hash")
	}
	if settings().Hash(src) != settings().Hash(with(src, func(c *corev1.ConfigMap) { delete(c.Labels, "tilt-lib.platform/published") })) {
		t.Error("without marker labels the hash reads a marker")
	}
}
