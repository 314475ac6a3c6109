package distribute

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Kind is what the controller does about one copy.
type Kind string

// Kinds, with the copy state each counts under (State).
const (
	Create       Kind = "create"        // out_of_sync: a target lacks the copy
	Update       Kind = "update"        // out_of_sync: the copy differs from its source
	Leave        Kind = "leave"         // in_sync
	Conflict     Kind = "conflict"      // conflict: a same-named ConfigMap we do not manage
	Refused      Kind = "refused"       // out_of_sync: the source breaks a bound; copies left
	MarkOrphaned Kind = "mark_orphaned" // orphaned: stamp orphaned-at
	KeepOrphan   Kind = "keep_orphan"   // orphaned: within the grace period
	KeepMounted  Kind = "keep_mounted"  // orphaned: grace over, but live Pods mount it
	AwaitPods    Kind = "await_pods"    // orphaned: grace over, the namespace's Pods not listed
	Delete       Kind = "delete"        // orphaned: grace over and no live Pod mounts it
)

// States of a copy (the metric's label values).
const (
	StateInSync    = "in_sync"
	StateOutOfSync = "out_of_sync"
	StateConflict  = "conflict"
	StateOrphaned  = "orphaned"
)

// States lists every state, for metrics that must report zeros.
var States = []string{StateInSync, StateOutOfSync, StateConflict, StateOrphaned}

// State is the copy state an action counts under.
func (k Kind) State() string {
	switch k {
	case Leave:
		return StateInSync
	case Create, Update, Refused:
		return StateOutOfSync
	case Conflict:
		return StateConflict
	}
	return StateOrphaned
}

// Action is one decision about one ConfigMap in one target namespace.
type Action struct {
	Kind      Kind
	Namespace string
	Name      string
	// Object is the ConfigMap to create or update (Create, Update, MarkOrphaned).
	Object *corev1.ConfigMap
	// UID and ResourceVersion of the existing copy: the preconditions of Update and Delete.
	UID             types.UID
	ResourceVersion string
	// Mounts is how many live Pods mount the copy (KeepMounted).
	Mounts int
	// Until is when the orphan's grace ends (KeepOrphan): the controller plans again then.
	Until time.Time
	// Reason says why (Conflict, Refused).
	Reason string
}

// Namespace is what Plan reads of a Namespace.
type Namespace struct {
	Name   string
	Labels map[string]string
}

// Input is everything Plan decides over.
type Input struct {
	// Sources are the ConfigMaps of the source namespace (non-sources among them are ignored).
	Sources []*corev1.ConfigMap
	// Namespaces are every Namespace (Plan selects the targets).
	Namespaces []Namespace
	// Copies are the ConfigMaps named like ours in other namespaces that the controller knows:
	// every managed copy, and the unmanaged same-named ones it ran into.
	Copies []*corev1.ConfigMap
	// Mounts[namespace][configmap] counts the live Pods mounting that ConfigMap, from a fresh
	// list. A namespace absent from Mounts was not listed: nothing there is deleted.
	Mounts map[string]map[string]int
	Now    time.Time
}

type key struct{ ns, name string }

// Plan decides, for every (target namespace, source) pair and every known copy, one Action.
// Actions come sorted by namespace, then name.
func Plan(s Settings, in Input) []Action {
	sources, refused := s.sources(in.Sources)
	hashes := make(map[string]string, len(sources)) // once per source, not per copy
	for name, src := range sources {
		hashes[name] = s.Hash(src)
	}
	targets := map[string]bool{}
	for _, ns := range in.Namespaces {
		if s.target(ns.Name, ns.Labels) {
			targets[ns.Name] = true
		}
	}
	copies := make(map[key]*corev1.ConfigMap, len(in.Copies))
	for _, c := range in.Copies {
		if c.Namespace == s.SourceNamespace || !s.ours(c.Name) {
			continue // never ours to touch, whatever its labels say
		}
		k := key{c.Namespace, c.Name}
		// A managed copy wins over a clash the controller remembered: it has been adopted.
		if prev, ok := copies[k]; !ok || !managed(prev) {
			copies[k] = c
		}
	}

	out := make([]Action, 0, len(targets)*(len(sources)+len(refused))+len(copies)/8)
	seen := make(map[key]bool, len(targets)*(len(sources)+len(refused)))
	for ns := range targets {
		for name, src := range sources {
			k := key{ns, name}
			seen[k] = true
			out = append(out, s.sync(src, hashes[name], ns, copies[k]))
		}
		for name, reason := range refused {
			k := key{ns, name}
			seen[k] = true
			out = append(out, Action{Kind: Refused, Namespace: ns, Name: name, Reason: reason})
		}
	}
	for k, c := range copies {
		if seen[k] || !s.owned(c) {
			continue // not ours (unmanaged, adopted without a source, another distributor's): never orphaned
		}
		if _, ok := refused[k.name]; ok {
			// The namespace is no longer a target, but the source is only refused: leave it.
			out = append(out, Action{Kind: Refused, Namespace: k.ns, Name: k.name, Reason: refused[k.name]})
			continue
		}
		out = append(out, s.orphan(c, in))
	}
	slices.SortFunc(out, func(a, b Action) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// NeedsPods lists the namespaces holding an orphan whose grace is over: the controller lists
// their Pods afresh (never from a cache) to fill Input.Mounts before Plan may delete there.
func NeedsPods(s Settings, in Input) []string {
	in.Mounts = nil
	var nss []string
	for _, a := range Plan(s, in) {
		if a.Kind == AwaitPods && (len(nss) == 0 || nss[len(nss)-1] != a.Namespace) {
			nss = append(nss, a.Namespace)
		}
	}
	return nss
}

// sources keeps the valid sources by name, and says why each refused one is refused.
func (s Settings) sources(cms []*corev1.ConfigMap) (map[string]*corev1.ConfigMap, map[string]string) {
	var cands []*corev1.ConfigMap
	for _, c := range cms {
		if c.Namespace == s.SourceNamespace && s.IsSource(c.Labels, c.Name) {
			cands = append(cands, c)
		}
	}
	slices.SortFunc(cands, func(a, b *corev1.ConfigMap) int { return strings.Compare(a.Name, b.Name) })
	ok, refused := map[string]*corev1.ConfigMap{}, map[string]string{}
	for _, c := range cands {
		switch n := contentBytes(c); {
		case len(ok) >= s.MaxSources:
			refused[c.Name] = fmt.Sprintf("more than %d sources (--max-sources)", s.MaxSources)
		case n > s.MaxSourceBytes:
			refused[c.Name] = fmt.Sprintf("%d bytes of data, more than %d (--max-source-bytes)", n, s.MaxSourceBytes)
		default:
			ok[c.Name] = c
		}
	}
	return ok, refused
}

func contentBytes(c *corev1.ConfigMap) int {
	n := 0
	for k, v := range c.Data {
		n += len(k) + len(v)
	}
	for k, v := range c.BinaryData {
		n += len(k) + len(v)
	}
	return n
}

func managed(c *corev1.ConfigMap) bool { return Managed(c.Labels) }

// owned: a copy this distributor wrote (managed, and from our source namespace). Distributors of
// other source namespaces share the managed-by label; their copies are never ours to orphan.
func (s Settings) owned(c *corev1.ConfigMap) bool {
	return managed(c) && c.Labels[s.Prefix+KeySourceNamespace] == s.SourceNamespace
}

// sync decides about the copy of src in ns; cur is the ConfigMap there, if any.
func (s Settings) sync(src *corev1.ConfigMap, hash, ns string, cur *corev1.ConfigMap) Action {
	a := Action{Namespace: ns, Name: src.Name}
	switch {
	case cur == nil:
		a.Kind, a.Object = Create, s.render(src, hash, ns, nil)
	case s.Clash(cur) != "":
		a.Kind, a.UID, a.Reason = Conflict, cur.UID, s.Clash(cur)
	case s.inSync(src, hash, cur):
		a.Kind = Leave
	default:
		a.Kind, a.Object = Update, s.render(src, hash, ns, cur)
		a.UID, a.ResourceVersion = cur.UID, cur.ResourceVersion
	}
	return a
}

// inSync compares the copy's own content with the source's directly (what Hash covers, without
// hashing every copy on every pass: 12,000 copies of 3 KB are 36 MB of SHA-256 per event).
func (s Settings) inSync(src *corev1.ConfigMap, hash string, cur *corev1.ConfigMap) bool {
	_, orphaned := cur.Annotations[s.Prefix+KeyOrphanedAt]
	return s.sameContent(src, cur) && cur.Annotations[s.Prefix+KeyContentHash] == hash && !orphaned &&
		cur.Labels[s.Prefix+KeySourceNamespace] == s.SourceNamespace && cur.Immutable == nil
}

func (s Settings) sameContent(a, b *corev1.ConfigMap) bool {
	if !sameLabel(s.VersionLabel, a, b) || len(a.Data) != len(b.Data) || len(a.BinaryData) != len(b.BinaryData) {
		return false
	}
	for _, k := range s.MarkerLabels {
		if !sameLabel(k, a, b) {
			return false
		}
	}
	for k, v := range a.Data {
		if w, ok := b.Data[k]; !ok || w != v {
			return false
		}
	}
	for k, v := range a.BinaryData {
		if w, ok := b.BinaryData[k]; !ok || !bytes.Equal(w, v) {
			return false
		}
	}
	return true
}

func sameLabel(k string, a, b *corev1.ConfigMap) bool {
	va, oka := a.Labels[k]
	vb, okb := b.Labels[k]
	return va == vb && oka == okb
}

// render is the copy of src in ns: cur's own metadata (a human's extra labels survive an
// update) with ours and the source's content laid over it.
func (s Settings) render(src *corev1.ConfigMap, hash, ns string, cur *corev1.ConfigMap) *corev1.ConfigMap {
	out := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: src.Name}}
	if cur != nil {
		out.ObjectMeta = *cur.ObjectMeta.DeepCopy()
		out.ManagedFields = nil
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	out.Labels[ManagedByLabel] = ManagedBy
	out.Labels[s.Prefix+KeySourceNamespace] = s.SourceNamespace
	for _, k := range append([]string{s.VersionLabel}, s.MarkerLabels...) {
		if v, ok := src.Labels[k]; ok {
			out.Labels[k] = v
		} else {
			delete(out.Labels, k)
		}
	}
	out.Annotations[s.Prefix+KeyContentHash] = hash
	delete(out.Annotations, s.Prefix+KeyOrphanedAt)
	out.Data = maps0(src.Data)
	out.BinaryData = bytes0(src.BinaryData)
	out.Immutable = nil
	return out
}

// orphan decides about a managed copy nothing wants any more.
func (s Settings) orphan(c *corev1.ConfigMap, in Input) Action {
	a := Action{Namespace: c.Namespace, Name: c.Name, UID: c.UID, ResourceVersion: c.ResourceVersion}
	at, err := time.Parse(time.RFC3339, c.Annotations[s.Prefix+KeyOrphanedAt])
	if err != nil { // unmarked, or a mark we cannot read: (re)start the grace now
		a.Kind, a.Object = MarkOrphaned, c.DeepCopy()
		a.Object.ManagedFields = nil
		if a.Object.Annotations == nil {
			a.Object.Annotations = map[string]string{}
		}
		a.Object.Annotations[s.Prefix+KeyOrphanedAt] = in.Now.UTC().Format(time.RFC3339)
		return a
	}
	if in.Now.Sub(at) < s.Grace {
		a.Kind, a.Until = KeepOrphan, at.Add(s.Grace)
		return a
	}
	mounts, listed := in.Mounts[c.Namespace]
	switch {
	case !listed:
		a.Kind = AwaitPods
	case mounts[c.Name] > 0:
		a.Kind, a.Mounts = KeepMounted, mounts[c.Name]
	default:
		a.Kind = Delete
	}
	return a
}

func maps0(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func bytes0(m map[string][]byte) map[string][]byte {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}
