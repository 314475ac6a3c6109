//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

const (
	versionsServing = "tiltlib_versions_document_serving"
	versionsValid   = "tiltlib_versions_document_valid"
	versionsRefused = "tiltlib_versions_document_refused_total"
)

// documentHash is the hash a replica must export for doc, computed here (the oracle), not by
// pkg/versions: the first 16 hex digits of its SHA-256.
func documentHash(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])[:16]
}

var libVolume = regexp.MustCompile(`"configMap":\{"name":"(tilt-lib(-v[0-9]+)?)"`)

// mountedOn posts a review of a workspace Pod of ns to w, as the API server would, and returns the
// tilt-lib ConfigMap its patch mounts ("" when the review was not answered with a patch).
func mountedOn(t *testing.T, w *harness.Webhook, ns string) string {
	t.Helper()
	pod := harness.WorkspacePod("ws-versions", nil)
	pod.Namespace = ns
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS(t, 0, 0)}, Timeout: dialTimeout}
	defer client.CloseIdleConnections()
	resp, err := client.Post("https://"+w.Addr+"/mutate-v1-pod", "application/json", bytes.NewReader(admissionReview(t, types.UID("versions"), pod)))
	if err != nil {
		t.Fatalf("review on %s: %v", w.Addr, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var ar admissionv1.AdmissionReview
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &ar) != nil || ar.Response == nil {
		return ""
	}
	if m := libVolume.FindStringSubmatch(string(ar.Response.Patch)); m != nil {
		return m[1]
	}
	return ""
}

// versionsReplica starts a replica watching the document cm of the injector's namespace, with the
// static --alias stable=v1 the document overrides.
func versionsReplica(t *testing.T, name, cm string, wait bool) *harness.Webhook {
	t.Helper()
	args := append([]string{"--versions-configmap=" + inj.Service.Namespace + "/" + cm, "--alias=stable=v1"}, "--log-level=debug")
	if !wait {
		w := extraWebhook(t, name, "", args...)
		if err := w.Launch(); err != nil {
			t.Fatal(err)
		}
		return w
	}
	return startExtraWebhook(t, name, args...)
}

// putDocument creates or replaces the document.
func putDocument(t *testing.T, name, doc string) {
	t.Helper()
	ctx := context.Background()
	cms := inj.Client.CoreV1().ConfigMaps(inj.Service.Namespace)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"versions.yaml": doc}}
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err == nil {
		return
	}
	if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// serving waits until every replica serves hash with the given validity, and a review on each
// mounts want; it returns how long that took from start.
func serving(t *testing.T, start time.Time, hash string, valid float64, ns, want string, replicas ...*harness.Webhook) time.Duration {
	t.Helper()
	var last string
	err := harness.Poll(context.Background(), gaugeDeadline, func(ctx context.Context) (bool, error) {
		for _, w := range replicas {
			ok, why, err := servesDocument(ctx, w, hash, valid)
			if err != nil || !ok {
				last = why
				return false, err
			}
			if got := mountedOn(t, w, ns); got != want {
				last = fmt.Sprintf("%s mounts %q, want %q", w.Addr, got, want)
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("replicas never served %s (valid %g) mounting %s: %v: %s", hash, valid, want, err, last)
	}
	return time.Since(start)
}

// servesDocument reports whether w's metrics say it serves the document hash with the given
// validity (1 valid, 0 the last good one kept), and what they say otherwise.
func servesDocument(ctx context.Context, w *harness.Webhook, hash string, valid float64) (bool, string, error) {
	sn, err := harness.Scrape(ctx, w.MetricsAddr)
	if err != nil {
		return false, "", err
	}
	s := sn.Get(harness.Series{Name: versionsServing, Labels: map[string]string{"hash": hash}})
	v := sn.Get(harness.Series{Name: versionsValid, Labels: map[string]string{}})
	if s != 1 || v != valid {
		return false, fmt.Sprintf("%s: serving{hash=%s} %g, valid %g; %v", w.Addr, hash, s, v, seriesOf(sn, versionsServing, "")), nil
	}
	return true, "", nil
}

// TestVersionsDocument: two replicas watch one document on the real API server. Its alias wins
// over the flag's and drives their decisions; a change reaches both (latency measured); an
// invalid document keeps the last good one on both (Warning Event listing the errors, counted,
// valid 0) and a fresh replica started on it is not ready until the document is fixed; a deleted
// document keeps the last good one.
func TestVersionsDocument(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, "versions", map[string]string{harness.KeyVersion: "stable"}, "tilt-lib", "tilt-lib-v1", "tilt-lib-v2", "tilt-lib-v3", "tilt-templates")
	settle(t, ns, libV2Namespace, templatesDefault) // the suite's webhook maps stable to v2
	cm := fmt.Sprintf("e2e-versions-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		_ = inj.Client.CoreV1().ConfigMaps(inj.Service.Namespace).Delete(context.Background(), cm, metav1.DeleteOptions{})
	})
	v2 := "aliases: {stable: v2}\n"
	putDocument(t, cm, v2)
	a, b := versionsReplica(t, "versions-a", cm, true), versionsReplica(t, "versions-b", cm, true)
	serving(t, time.Now(), documentHash(v2), 1, ns, "tilt-lib-v2", a, b)

	v3 := "aliases: {stable: v3}\n"
	start := time.Now()
	putDocument(t, cm, v3)
	t.Logf("the document change reached both replicas (metrics and decisions) in %s", serving(t, start, documentHash(v3), 1, ns, "tilt-lib-v3", a, b).Round(time.Millisecond))

	bad := "aliases: {stable: v4}\nrollouts:\n- {name: r, from: v2, to: v4, percent: \"10.005\"}\n"
	putDocument(t, cm, bad)
	serving(t, time.Now(), documentHash(v3), 0, ns, "tilt-lib-v3", a, b)
	for _, w := range []*harness.Webhook{a, b} {
		sn, err := harness.Scrape(ctx, w.MetricsAddr)
		if err != nil {
			t.Fatal(err)
		}
		if r := sn.Get(harness.Series{Name: versionsRefused, Labels: map[string]string{}}); r < 1 {
			t.Errorf("%s: %s = %g after an invalid document", w.Addr, versionsRefused, r)
		}
	}
	waitVersionsEvent(t, cm, `from "v2" must be an alias`, `percent "10.005"`)

	t.Run("FreshReplicaOnInvalidIsNotReady", func(t *testing.T) {
		c := versionsReplica(t, "versions-c", cm, false)
		waitLive(t, ctx, c)
		var body string
		err := harness.Poll(ctx, gaugeDeadline, func(ctx context.Context) (bool, error) {
			code, b, err := c.Probe(ctx, "/readyz?verbose")
			body = b
			// Steady state: the caches are in, the document was read and refused.
			return err == nil && code != http.StatusOK && strings.Contains(b, "[+]caches ok") && strings.Contains(b, "[-]versions"), nil
		})
		if err != nil {
			t.Fatalf("the fresh replica's /readyz never showed the refused document: %v\n%s", err, body)
		}
		if got := mountedOn(t, c, ns); got != "" {
			t.Errorf("a replica without a good document mounted %s", got)
		}
		fixed := "aliases: {stable: v2}\n# fixed\n"
		putDocument(t, cm, fixed)
		err = harness.Poll(ctx, gaugeDeadline, func(ctx context.Context) (bool, error) {
			code, _, err := c.Probe(ctx, "/readyz")
			return err == nil && code == http.StatusOK, nil
		})
		if err != nil {
			t.Fatalf("the fresh replica never became ready with a fixed document: %v", err)
		}
		serving(t, time.Now(), documentHash(fixed), 1, ns, "tilt-lib-v2", a, b, c)
	})

	t.Run("DeletedKeepsLastGood", func(t *testing.T) {
		last := "aliases: {stable: v3}\n# last\n"
		putDocument(t, cm, last)
		serving(t, time.Now(), documentHash(last), 1, ns, "tilt-lib-v3", a, b)
		if err := inj.Client.CoreV1().ConfigMaps(inj.Service.Namespace).Delete(ctx, cm, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, w := range []*harness.Webhook{a, b} {
			waitLog(t, w, "versions document deleted; keeping the last good one")
		}
		serving(t, time.Now(), documentHash(last), 1, ns, "tilt-lib-v3", a, b)
	})
}

// waitVersionsEvent waits for a Warning Event on the document's ConfigMap whose note says each of
// fragments.
func waitVersionsEvent(t *testing.T, cm string, fragments ...string) {
	t.Helper()
	var notes []string
	err := harness.Poll(context.Background(), gaugeDeadline, func(ctx context.Context) (bool, error) {
		evs, err := inj.Client.EventsV1().Events(inj.Service.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		notes = notes[:0]
		for _, e := range evs.Items {
			if e.Regarding.Kind != "ConfigMap" || e.Regarding.Name != cm || e.Reason != "VersionsDocumentInvalid" || e.Type != corev1.EventTypeWarning {
				continue
			}
			notes = append(notes, e.Note)
			ok := true
			for _, f := range fragments {
				ok = ok && strings.Contains(e.Note, f)
			}
			if ok {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no Warning Event on ConfigMap %s saying %q: %v; notes: %q", cm, fragments, err, notes)
	}
}

// waitLog waits until w's log holds line.
func waitLog(t *testing.T, w *harness.Webhook, line string) {
	t.Helper()
	err := harness.Poll(context.Background(), gaugeDeadline, func(context.Context) (bool, error) {
		b, err := os.ReadFile(w.LogPath)
		return err == nil && strings.Contains(string(b), line), nil
	})
	if err != nil {
		t.Fatalf("%s never logged %q: %v", w.LogPath, line, err)
	}
}
