//go:build e2e

package e2e

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// The attack of issue 23 (item 2): a tenant allowed to create ConfigMaps in its own namespace
// names them like ours (tilt-lib-<x>), each with a version label of its own, and pins workspace
// Pods to them. Every such ConfigMap used to become a label value of the adoption gauges, and
// every pinned review one of tiltlib_injections_total (a counter: the series never goes away).
const (
	// tenantConfigMaps is the measurement: 2,000 ConfigMaps gave 2,000 series.
	tenantConfigMaps = 2000
	// tenantPods workspace Pods are pinned to the first of them: more than the cap.
	tenantPods = 150
	// seriesCap is the documented default of --max-configmap-series; the flag is not passed, so
	// the default is what is tested.
	seriesCap = 100
	// attackLabel marks what the test creates, for its cleanup.
	attackLabel = "e2e-tenant-attack"
)

// tenantVersion is the version label of the tenant's i-th ConfigMap: 63 characters, the longest
// label value, each one distinct.
func tenantVersion(i int) string {
	v := fmt.Sprintf("t%04d-", i)
	return v + strings.Repeat("x", 63-len(v))
}

// tenantSuffix is the version a tenant Pod pins to reach its i-th ConfigMap, tilt-lib-<suffix>.
func tenantSuffix(i int) string { return fmt.Sprintf("t%04d", i) }

// tenantAttack is one namespace under attack: the platform's published ConfigMaps, one legit
// workspace, then tenantConfigMaps ConfigMaps and tenantPods Pods of the tenant's.
type tenantAttack struct{ ns string }

// prepareTenant creates the namespace with the published defaults and one reviewed workspace on
// them, and two more namespaces the platform publishes the defaults to: what the platform
// publishes is in many namespaces, a tenant's own in its own.
func prepareTenant(t *testing.T) *tenantAttack {
	t.Helper()
	for range 2 {
		namespace(t, "team", nil, "tilt-lib", "tilt-templates")
	}
	a := &tenantAttack{ns: namespace(t, "tenant", nil, "tilt-lib", "tilt-templates")}
	settle(t, a.ns, libDefault, templatesDefault)
	admitWorkspace(t, a.ns, "ws-legit", nil, libDefault, templatesDefault, "none")
	return a
}

// launch creates the tenant's ConfigMaps and its pinned workspace Pods, and deletes them all when
// the test ends, waiting until the suite's webhook has forgotten them (later tests compare its
// gauges with the API server).
func (a *tenantAttack) launch(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	t.Cleanup(func() { a.cleanup(t) })
	start := time.Now()
	work := make(chan int)
	errs := make(chan error, tenantConfigMaps)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range work {
				cm := &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: "tilt-lib-" + tenantSuffix(i), Labels: map[string]string{
						"version": tenantVersion(i), attackLabel: "true",
					}},
					Data: map[string]string{"tilt_lib.star": "# the tenant's own\n"},
				}
				if _, err := inj.Client.CoreV1().ConfigMaps(a.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("creating ConfigMap %s: %w", cm.Name, err)
				}
			}
		})
	}
	for i := range tenantConfigMaps {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range tenantPods {
		a.pinnedPod(t, i)
	}
	t.Logf("tenant created %d ConfigMaps and %d pinned workspace Pods in %s in %s",
		tenantConfigMaps, tenantPods, a.ns, time.Since(start).Round(time.Millisecond))
}

// pinnedPod creates a workspace Pod carrying the version label of the tenant's i-th ConfigMap, as
// the webhook would have written it had it pinned the Pod there. It is created outside the
// workspace selector and labelled afterwards (an UPDATE): the suite's webhook never reviews it,
// so its counters stay the scenarios' ledger; the adoption gauges read the label all the same.
func (a *tenantAttack) pinnedPod(t *testing.T, i int) {
	t.Helper()
	ctx := context.Background()
	name := "ws-tenant-" + tenantSuffix(i)
	p := harness.WorkspacePod(name, nil)
	delete(p.Labels, harness.WorkspaceLabel)
	p.Labels[harness.KeyVersion] = tenantSuffix(i)
	p.Labels[attackLabel] = "true"
	if _, err := inj.Client.CoreV1().Pods(a.ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating Pod %s/%s: %v", a.ns, name, err)
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, harness.WorkspaceLabel, harness.WorkspaceValue)
	if _, err := inj.Client.CoreV1().Pods(a.ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("labelling %s/%s as a workspace: %v", a.ns, name, err)
	}
}

func (a *tenantAttack) cleanup(t *testing.T) {
	ctx := context.Background()
	sel := metav1.ListOptions{LabelSelector: attackLabel + "=true"}
	now := metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))}
	if err := inj.Client.CoreV1().Pods(a.ns).DeleteCollection(ctx, now, sel); err != nil {
		t.Errorf("deleting the tenant's Pods: %v", err)
	}
	if err := inj.Client.CoreV1().ConfigMaps(a.ns).DeleteCollection(ctx, now, sel); err != nil {
		t.Errorf("deleting the tenant's ConfigMaps: %v", err)
	}
	var got, want map[string]float64
	err := harness.Poll(ctx, gaugeDeadline, func(ctx context.Context) (bool, error) {
		var err error
		if want, err = publishedVersions(ctx); err != nil {
			return false, err
		}
		sn, err := inj.Scrape(ctx)
		if err != nil {
			return false, err
		}
		got = samples(sn, configMapVersions, nil)
		return maps.Equal(got, want), nil
	})
	if err != nil {
		t.Errorf("the suite's webhook never forgot the tenant's ConfigMaps (%v):\n got  %s\n want %s", err, lines(got), lines(want))
	}
}

// forgeReviews posts, to w, the review the API server would send for tenantConfigMaps workspace
// Pods of the tenant's namespace, the i-th pinned (by its annotation) to the i-th ConfigMap: what
// the tenant's own Pod creations would cost a webhook it is registered with.
func (a *tenantAttack) forgeReviews(t *testing.T, w *harness.Webhook) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS(t, 0, 0)}, Timeout: dialTimeout}
	defer client.CloseIdleConnections()
	for i := range tenantConfigMaps {
		pod := harness.WorkspacePod("ws-forged-"+tenantSuffix(i), map[string]string{harness.KeyVersion: tenantSuffix(i)})
		pod.Namespace = a.ns
		body := admissionReview(t, types.UID(fmt.Sprintf("tenant-%d", i)), pod)
		resp, err := client.Post("https://"+w.Addr+"/mutate-v1-pod", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("review %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("review %d: HTTP %d", i, resp.StatusCode)
		}
	}
}

// seriesOf returns every sample of metric name (counter or gauge) by series key; with ns, only
// those of that namespace label.
func seriesOf(sn harness.Snapshot, name, ns string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range sn.Values {
		if strings.HasPrefix(k, name+"{") && (ns == "" || strings.Contains(k, fmt.Sprintf("namespace=%q", ns))) {
			out[k] = v
		}
	}
	return out
}

// pair is one (configmap, version) label pair of a component.
type pair struct{ component, configMap, version string }

// ourConfigMaps lists, from the API server, every ConfigMap named like ours, by pair, with the
// number of namespaces holding it.
func ourConfigMaps(ctx context.Context, selector string) (map[pair]int, error) {
	cms, err := inj.Client.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	out := map[pair]int{}
	for _, cm := range cms.Items {
		for _, base := range []string{"tilt-lib", "tilt-templates"} {
			if cm.Name == base || strings.HasPrefix(cm.Name, base+"-") {
				out[pair{base, cm.Name, cm.Labels["version"]}]++
			}
		}
	}
	return out, nil
}

// kept is the documented rule (docs/design.md, "Bounds"), re-declared here as the oracle: the
// limit pairs held by the most namespaces keep their own series (ties: configmap, then version,
// in byte order); every other pair is "other".
func kept(held map[pair]int, limit int) map[pair]bool {
	ranked := slices.SortedFunc(maps.Keys(held), func(a, b pair) int {
		return cmp.Or(cmp.Compare(held[b], held[a]), cmp.Compare(a.configMap, b.configMap), cmp.Compare(a.version, b.version))
	})
	out := map[pair]bool{}
	for _, p := range ranked[:min(limit, len(ranked))] {
		out[p] = true
	}
	return out
}

// versionsSeries is what tiltlib_configmap_versions shows for held under limit.
func versionsSeries(held map[pair]int, limit int) map[string]float64 {
	keep := kept(held, limit)
	out := map[string]float64{}
	for p, n := range held {
		if !keep[p] {
			p = pair{p.component, "other", ""}
		}
		out[harness.Series{Name: configMapVersions, Labels: map[string]string{
			"component": p.component, "configmap": p.configMap, "version": p.version,
		}}.Key()] += float64(n)
	}
	return out
}

func seriesCount(sn harness.Snapshot, name string) int { return len(seriesOf(sn, name, "")) }

// injection is one tiltlib_injections_total series key.
func injection(component, configMap, version, source string) string {
	return harness.Injection(component, configMap, version, source).Key()
}

// waitSeries waits until fn's series scraped from w are exactly want (want recomputed each time,
// from the API server where it depends on it), and returns the last scrape.
func waitSeries(t *testing.T, w *harness.Webhook, what string, fn func(harness.Snapshot) map[string]float64,
	want func(context.Context) (map[string]float64, error)) harness.Snapshot {
	t.Helper()
	var sn harness.Snapshot
	var got, exp map[string]float64
	err := harness.Poll(context.Background(), gaugeDeadline, func(ctx context.Context) (bool, error) {
		var err error
		if exp, err = want(ctx); err != nil {
			return false, err
		}
		if sn, err = harness.Scrape(ctx, w.MetricsAddr); err != nil {
			return false, err
		}
		got = fn(sn)
		return maps.Equal(got, exp), nil
	})
	if err != nil {
		t.Fatalf("%s: %d series, want %d (%v):\n got  %s\n want %s", what, len(got), len(exp), err, lines(got), lines(exp))
	}
	return sn
}

func fixed(m map[string]float64) func(context.Context) (map[string]float64, error) {
	return func(context.Context) (map[string]float64, error) { return m, nil }
}

// TestTenantConfigMapsCannotMakeSeries: the 2,000-ConfigMap attack against two replicas. With
// --configmap-selector, the tenant's ConfigMaps never reach the process: each metric has exactly the
// series it had before the attack (and the tenant's pinned Pods are configmap="missing"). Without
// it (the default), the cap (--max-configmap-series, default 100) bounds each metric to 100
// (configmap, version) pairs, the rest counted as configmap="other". Before the fix, the same
// attack gave 2,002 tiltlib_configmap_versions, 153 tiltlib_workspace_pods and 2,001
// tiltlib_injections_total series.
func TestTenantConfigMapsCannotMakeSeries(t *testing.T) {
	ctx := context.Background()
	a := prepareTenant(t)
	marked := startExtraWebhook(t, "tenant-marked", "--configmap-selector="+publishedSelector)
	capped := startExtraWebhook(t, "tenant-capped")
	versions := func(sn harness.Snapshot) map[string]float64 { return seriesOf(sn, configMapVersions, "") }
	inTenant := func(sn harness.Snapshot) map[string]float64 { return seriesOf(sn, workspacePods, a.ns) }
	injections := func(sn harness.Snapshot) map[string]float64 { return seriesOf(sn, harness.InjectionsTotal, "") }
	publishedOnly := func(ctx context.Context) (map[string]float64, error) {
		held, err := ourConfigMaps(ctx, publishedSelector)
		return versionsSeries(held, seriesCap), err
	}
	legit := map[string]float64{
		pods(a.ns, "tilt-lib", "tilt-lib", "1.4.0"):             1,
		pods(a.ns, "tilt-templates", "tilt-templates", "1.1.0"): 1,
	}
	before := waitSeries(t, marked, "before the attack, "+configMapVersions, versions, publishedOnly)
	waitSeries(t, marked, "before the attack, "+workspacePods, inTenant, fixed(legit))

	a.launch(t)
	a.forgeReviews(t, marked)
	a.forgeReviews(t, capped)

	t.Run("SelectorOn", func(t *testing.T) {
		sn := waitSeries(t, marked, configMapVersions, versions, fixed(versions(before)))
		wantPods := maps.Clone(legit)
		wantPods[pods(a.ns, "tilt-lib", "missing", "")] = tenantPods
		wantPods[pods(a.ns, "tilt-templates", "none", "")] = tenantPods
		waitSeries(t, marked, workspacePods, inTenant, fixed(wantPods))
		// The tenant's pins fall back to the published default, whatever the version asked.
		waitSeries(t, marked, harness.InjectionsTotal, injections, fixed(map[string]float64{
			injection("tilt-lib", "tilt-lib", "1.4.0", "fallback"):            tenantConfigMaps,
			injection("tilt-templates", "tilt-templates", "1.1.0", "default"): tenantConfigMaps,
		}))
		t.Logf("selector on, under attack: %s %d series (as before it), %s %d, %s %d",
			configMapVersions, seriesCount(sn, configMapVersions), workspacePods, seriesCount(sn, workspacePods),
			harness.InjectionsTotal, len(injections(sn)))
	})

	t.Run("SelectorOff", func(t *testing.T) {
		var keep map[pair]bool
		sn := waitSeries(t, capped, configMapVersions, versions, func(ctx context.Context) (map[string]float64, error) {
			held, err := ourConfigMaps(ctx, "")
			keep = kept(held, seriesCap)
			return versionsSeries(held, seriesCap), err
		})
		// The platform's pairs are in at least three namespaces: kept, whatever the tenant names.
		for _, p := range []pair{{"tilt-lib", "tilt-lib", "1.4.0"}, {"tilt-templates", "tilt-templates", "1.1.0"}} {
			if !keep[p] {
				t.Errorf("the published %v lost its series to the tenant's", p)
			}
		}
		wantPods := maps.Clone(legit)
		wantPods[pods(a.ns, "tilt-templates", "none", "")] = tenantPods
		for i := range tenantPods {
			p := pair{"tilt-lib", "tilt-lib-" + tenantSuffix(i), tenantVersion(i)}
			if !keep[p] {
				p = pair{"tilt-lib", "other", ""}
			}
			wantPods[pods(a.ns, p.component, p.configMap, p.version)]++
		}
		waitSeries(t, capped, workspacePods, inTenant, fixed(wantPods))
		// The counter keeps the first pairs it sees: review i brings tilt-lib-t<i>, then tilt-templates.
		wantInjections := map[string]float64{injection("tilt-templates", "tilt-templates", "1.1.0", "default"): tenantConfigMaps}
		for i := range tenantConfigMaps {
			if i < seriesCap-1 {
				wantInjections[injection("tilt-lib", "tilt-lib-"+tenantSuffix(i), tenantVersion(i), "pod")] = 1
			} else {
				wantInjections[injection("tilt-lib", "other", "", "pod")]++
			}
		}
		waitSeries(t, capped, harness.InjectionsTotal, injections, fixed(wantInjections))
		t.Logf("selector off, under attack: %s %d series (cap %d), %s %d (%d in the tenant's namespace), %s %d",
			configMapVersions, seriesCount(sn, configMapVersions), seriesCap, workspacePods, seriesCount(sn, workspacePods),
			len(inTenant(sn)), harness.InjectionsTotal, len(injections(sn)))
	})

	// The marker is a label: a ConfigMap that gains it is added by the watch, one that loses it
	// deleted. (So a tenant can forge it: the cap bounds what that buys, as without the selector.)
	t.Run("MarkerFollowsTheWatch", func(t *testing.T) {
		last := tenantConfigMaps - 1
		name := "tilt-lib-" + tenantSuffix(last)
		forged := maps.Clone(versions(before))
		forged[harness.Series{Name: configMapVersions, Labels: map[string]string{
			"component": "tilt-lib", "configmap": name, "version": tenantVersion(last),
		}}.Key()] = 1
		for _, c := range []struct {
			patch string
			want  map[string]float64
		}{
			{fmt.Sprintf(`{"metadata":{"labels":{%q:"true"}}}`, markerLabel), forged},
			{fmt.Sprintf(`{"metadata":{"labels":{%q:null}}}`, markerLabel), versions(before)},
		} {
			if _, err := inj.Client.CoreV1().ConfigMaps(a.ns).Patch(ctx, name, types.MergePatchType, []byte(c.patch), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
			waitSeries(t, marked, configMapVersions+" after "+c.patch, versions, fixed(c.want))
		}
	})
}
