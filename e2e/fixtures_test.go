//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// want is what one component of a Pod should carry: ConfigMap, semantic version, source.
type want = mutate.RecordComponent

// The ConfigMaps the GitOps repo would publish, with the semantic version in their version label.
var published = map[string]string{
	"tilt-lib":          "1.4.0",
	"tilt-lib-v2":       "2.0.1",
	"tilt-lib-v3":       "3.0.0",
	"tilt-templates":    "1.1.0",
	"tilt-templates-v2": "2.0.0",
}

// Expected components, named after the ConfigMap and the level that chose it.
var (
	libDefault       = want{ConfigMap: "tilt-lib", Version: "1.4.0", Source: "default"}
	libV2Namespace   = want{ConfigMap: "tilt-lib-v2", Version: "2.0.1", Source: "namespace"}
	libV3Namespace   = want{ConfigMap: "tilt-lib-v3", Version: "3.0.0", Source: "namespace"}
	libV3Pod         = want{ConfigMap: "tilt-lib-v3", Version: "3.0.0", Source: "pod"}
	templatesDefault = want{ConfigMap: "tilt-templates", Version: "1.1.0", Source: "default"}
)

// The platform's marker (--configmap-selector) the GitOps repo sets on what it publishes, as
// examples/ does: the suite's webhook runs without the selector (the default), the replicas of
// TestTenantConfigMapsCannotMakeSeries with it.
const (
	markerLabel       = harness.Prefix + "published"
	publishedSelector = markerLabel + "=true"
)

// configMap is a published ConfigMap as ArgoCD would sync it, marker included.
func configMap(name string) *corev1.ConfigMap {
	data := map[string]string{"tilt_lib.star": "# " + name + "\ndef tilt_lib_version():\n    return \"" + published[name] + "\"\n"}
	if strings.HasPrefix(name, "tilt-templates") {
		data = map[string]string{"Tiltfile": "# " + name + "\nload('/apps/tilt-lib/tilt_lib.star', 'tilt_lib_version')\n"}
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"version": published[name], markerLabel: "true"}},
		Data:       data,
	}
}

// namespace creates a Namespace for one scenario (generated name, so reruns never collide) with
// annotations, and the named published ConfigMaps in it. Nothing deletes it: without a
// controller-manager a deleted Namespace stays Terminating, and the control plane goes away
// with the suite.
func namespace(t *testing.T, prefix string, annotations map[string]string, configMaps ...string) string {
	t.Helper()
	ctx := context.Background()
	ns, err := inj.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: "e2e-" + prefix + "-", Annotations: annotations,
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	for _, name := range configMaps {
		createConfigMap(t, ns.Name, name)
	}
	return ns.Name
}

func createConfigMap(t *testing.T, namespace, name string) {
	t.Helper()
	if _, err := inj.Client.CoreV1().ConfigMaps(namespace).Create(context.Background(), configMap(name), metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating ConfigMap %s/%s: %v", namespace, name, err)
	}
}

// createPod creates pod through a client that collects warnings, then reads it back: every
// assertion is on the Pod as the API server stored it.
func createPod(t *testing.T, namespace string, pod *corev1.Pod) (*corev1.Pod, []string) {
	t.Helper()
	ctx := context.Background()
	c, warnings, err := harness.WarningClient(inj.Config)
	if err != nil {
		t.Fatal(err)
	}
	created, err := c.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating pod in %s: %v", namespace, err)
	}
	stored, err := inj.Client.CoreV1().Pods(namespace).Get(ctx, created.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading pod %s/%s back: %v", namespace, created.Name, err)
	}
	return stored, warnings.Take()
}

// settle waits until the webhook's informer caches have caught up with a scenario's Namespace and
// ConfigMaps: a dry-run workspace Pod (not counted in metrics) comes back with lib and templates.
// The server reads only caches on the admission path, so a Pod created in the same millisecond as
// its Namespace could still see the old state; real clusters create Namespaces long before
// workspaces.
func settle(t *testing.T, namespace string, lib, templates want) {
	t.Helper()
	settleOn(t, namespace, fmt.Sprintf("tilt-lib %+v, tilt-templates %+v", lib, templates), func(p *corev1.Pod) bool {
		rec, ok, err := harness.InjectedRecord(p)
		return err == nil && ok && same(rec.Lib, lib) && same(rec.Templates, templates)
	})
}

// settleStatus waits until a dry-run workspace Pod in namespace gets the status annotation status.
func settleStatus(t *testing.T, namespace, status string) {
	t.Helper()
	settleOn(t, namespace, "status "+status, func(p *corev1.Pod) bool { return p.Annotations[harness.KeyStatus] == status })
}

func settleOn(t *testing.T, namespace, what string, ok func(*corev1.Pod) bool) {
	t.Helper()
	start := time.Now()
	var last map[string]string
	err := harness.Poll(context.Background(), 15*time.Second, func(ctx context.Context) (bool, error) {
		p, err := inj.DryRunCreate(ctx, namespace, harness.WorkspacePod("settle", nil))
		if err != nil {
			return false, fmt.Errorf("dry-run create: %w", err)
		}
		last = p.Annotations
		return ok(p), nil
	})
	if err != nil {
		t.Fatalf("webhook never answered %s in %s (last annotations %v): %v", what, namespace, last, err)
	}
	t.Logf("webhook caches saw %s after %s", namespace, time.Since(start).Round(time.Millisecond))
}

func same(got *mutate.RecordComponent, w want) bool { return got != nil && *got == w }

// assertInjected checks a stored Pod carries lib and templates, mounted read-only without
// subPath into exactly containers, with the documented annotations and labels, and that nothing
// else of the Pod changed.
func assertInjected(t *testing.T, pod *corev1.Pod, lib, templates want, containers ...string) {
	t.Helper()
	if len(containers) == 0 {
		containers = []string{"dev"}
	}
	if got := pod.Annotations[harness.KeyStatus]; got != "injected" {
		t.Errorf("%s = %q, want injected", harness.KeyStatus, got)
	}
	rec, ok, err := harness.InjectedRecord(pod)
	switch {
	case err != nil:
		t.Error(err)
	case !ok:
		t.Errorf("annotation %s missing; annotations: %v", harness.KeyInjected, pod.Annotations)
	default:
		if !same(rec.Lib, lib) || !same(rec.Templates, templates) || !slices.Equal(rec.Containers, containers) {
			t.Errorf("%s = %s\nwant tilt-lib %+v, tilt-templates %+v, containers %v",
				harness.KeyInjected, pod.Annotations[harness.KeyInjected], lib, templates, containers)
		}
	}
	for key, w := range map[string]want{harness.KeyVersion: lib, harness.KeyTemplatesVersion: templates} {
		if got, exp := pod.Labels[key], suffix(w.ConfigMap); got != exp {
			t.Errorf("label %s = %q, want %q", key, got, exp)
		}
	}
	// The requested-version label is what was asked for: the mounted version unless it fell back.
	for key, w := range map[string]want{harness.KeyRequestedVersion: lib, harness.KeyRequestedTemplatesVersion: templates} {
		got, mounted := pod.Labels[key], suffix(w.ConfigMap)
		if w.Source == "fallback" && (got == mounted || got == "" || got == "none") || w.Source != "fallback" && got != mounted {
			t.Errorf("label %s = %q; mounted %q from the %s", key, got, mounted, w.Source)
		}
	}
	assertVolume(t, pod, "tilt-lib", lib.ConfigMap)
	assertVolume(t, pod, "tilt-templates", templates.ConfigMap)
	for _, c := range pod.Spec.Containers {
		mounts := tiltMounts(c)
		if slices.Contains(containers, c.Name) {
			wantMounts := map[string]string{"/apps/tilt-lib": "tilt-lib", "/apps/template": "tilt-templates"}
			for _, m := range c.VolumeMounts {
				if v, ok := wantMounts[m.MountPath]; ok && m.Name == v && m.ReadOnly && m.SubPath == "" && m.SubPathExpr == "" {
					delete(wantMounts, m.MountPath)
				}
			}
			if len(wantMounts) > 0 {
				t.Errorf("container %s lacks read-only, subPath-free mounts %v; has %+v", c.Name, wantMounts, c.VolumeMounts)
			}
			if len(mounts) != 2 {
				t.Errorf("container %s has %d tilt mounts, want 2: %+v", c.Name, len(mounts), c.VolumeMounts)
			}
		} else if len(mounts) > 0 {
			t.Errorf("container %s must not be touched, has %+v", c.Name, mounts)
		}
	}
	assertSpecKept(t, pod)
}

// assertSpecKept checks what the webhook must never change: the init container, the existing
// volume and the dev container's own mount.
func assertSpecKept(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if len(pod.Spec.InitContainers) == 0 {
		t.Errorf("the init container is gone")
	}
	for _, c := range pod.Spec.InitContainers {
		if len(c.VolumeMounts) > 0 {
			t.Errorf("init container %s got mounts %+v", c.Name, c.VolumeMounts)
		}
	}
	if !slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == "data-00" }) {
		t.Errorf("existing volume data-00 lost: %+v", pod.Spec.Volumes)
	}
}

func assertVolume(t *testing.T, pod *corev1.Pod, name, configMap string) {
	t.Helper()
	var found []corev1.Volume
	for _, v := range pod.Spec.Volumes {
		if v.Name == name {
			found = append(found, v)
		}
	}
	switch {
	case len(found) != 1:
		t.Errorf("want exactly one volume %s, have %d: %+v", name, len(found), pod.Spec.Volumes)
	case found[0].ConfigMap == nil || found[0].ConfigMap.Name != configMap:
		t.Errorf("volume %s = %+v, want ConfigMap %s", name, found[0].VolumeSource, configMap)
	case found[0].ConfigMap.Optional == nil || !*found[0].ConfigMap.Optional:
		t.Errorf("volume %s must be optional: a missing ConfigMap must never stop a workspace", name)
	}
}

// assertUntouched checks the webhook left no trace on a stored Pod: none of the annotations or
// labels it writes (annotations a user set, like inject: "false", are the user's), no volume, no
// mount.
func assertUntouched(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	assertNoneOf(t, pod, "annotation", pod.Annotations, harness.KeyStatus, harness.KeyInjected)
	assertNoneOf(t, pod, "label", pod.Labels, harness.KeyVersion, harness.KeyTemplatesVersion,
		harness.KeyRequestedVersion, harness.KeyRequestedTemplatesVersion)
	assertUntouchedSpec(t, pod)
}

// assertSkipped checks a Pod the webhook saw but mounted nothing into: the status annotation
// "skipped:<reason>" says why, and both version labels (keys the webhook owns) say "none".
func assertSkipped(t *testing.T, pod *corev1.Pod, reason string) {
	t.Helper()
	if got := pod.Annotations[harness.KeyStatus]; got != "skipped:"+reason {
		t.Errorf("%s = %q, want %q", harness.KeyStatus, got, "skipped:"+reason)
	}
	assertNoneOf(t, pod, "annotation", pod.Annotations, harness.KeyInjected)
	for _, key := range []string{harness.KeyVersion, harness.KeyTemplatesVersion, harness.KeyRequestedVersion, harness.KeyRequestedTemplatesVersion} {
		if got := pod.Labels[key]; got != "none" {
			t.Errorf("pod %s/%s label %s = %q, want none", pod.Namespace, pod.Name, key, got)
		}
	}
	assertUntouchedSpec(t, pod)
}

// assertUntouchedSpec checks the Pod got no tilt volume and no mount.
func assertUntouchedSpec(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	for _, v := range pod.Spec.Volumes {
		if v.Name == "tilt-lib" || v.Name == "tilt-templates" {
			t.Errorf("pod %s/%s got volume %s", pod.Namespace, pod.Name, v.Name)
		}
	}
	for _, c := range append(slices.Clone(pod.Spec.InitContainers), pod.Spec.Containers...) {
		if m := tiltMounts(c); len(m) > 0 {
			t.Errorf("pod %s/%s container %s got mounts %+v", pod.Namespace, pod.Name, c.Name, m)
		}
	}
}

func assertNoneOf(t *testing.T, pod *corev1.Pod, kind string, m map[string]string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if v, ok := m[k]; ok {
			t.Errorf("pod %s/%s carries %s %s=%q", pod.Namespace, pod.Name, kind, k, v)
		}
	}
}

func tiltMounts(c corev1.Container) []corev1.VolumeMount {
	var out []corev1.VolumeMount
	for _, m := range c.VolumeMounts {
		if m.Name == "tilt-lib" || m.Name == "tilt-templates" || strings.HasPrefix(m.MountPath, "/apps/") {
			out = append(out, m)
		}
	}
	return out
}

// suffix is the version label the webhook writes for a ConfigMap: "v2" for tilt-lib-v2,
// "default" for the unversioned one, "none" when the component was not mounted.
func suffix(configMap string) string {
	if configMap == "" {
		return "none"
	}
	for _, base := range []string{"tilt-templates", "tilt-lib"} {
		if rest, ok := strings.CutPrefix(configMap, base+"-"); ok {
			return rest
		}
		if configMap == base {
			return "default"
		}
	}
	return configMap
}

// admitWorkspace creates workspace Pod name (with Pod annotations ann) in ns and asserts the whole
// outcome: what it carries, what the developer was told (no warning, or one mentioning every
// fragment) and the exact metric delta with the review's reason.
func admitWorkspace(t *testing.T, ns, name string, ann map[string]string, lib, templates want, reason string, fragments ...string) *corev1.Pod {
	t.Helper()
	before := scrape(t)
	pod, warnings := createPod(t, ns, harness.WorkspacePod(name, ann))
	assertInjected(t, pod, lib, templates)
	if len(fragments) == 0 {
		assertNoWarnings(t, warnings)
	} else {
		assertWarning(t, warnings, fragments...)
	}
	expectDelta(t, before, injected(lib, templates, reason))
	return pod
}

// assertWarning checks one warning has the injector's prefix and mentions every fragment.
func assertWarning(t *testing.T, warnings []string, fragments ...string) {
	t.Helper()
	for _, w := range warnings {
		if !strings.HasPrefix(w, "tilt-lib-injector: ") {
			continue
		}
		all := true
		for _, f := range fragments {
			all = all && strings.Contains(w, f)
		}
		if all {
			return
		}
	}
	t.Errorf("no warning starting with %q mentions %q; client received %q", "tilt-lib-injector: ", fragments, warnings)
}

// assertNoWarnings checks a clean injection says nothing to the developer.
func assertNoWarnings(t *testing.T, warnings []string) {
	t.Helper()
	for _, w := range warnings {
		if strings.HasPrefix(w, "tilt-lib-injector: ") {
			t.Errorf("unexpected warning: %q", w)
		}
	}
}
