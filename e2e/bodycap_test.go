//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	regv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
	"github.com/platform-tools/tilt-lib-injector/pkg/review"
)

// measureLabel selects the Pods of TestLargestPodCreateReview for its recording webhook only
// (they are not workspaces: the injector never sees them).
const measureLabel = "e2e.tilt-lib.platform/measure-review"

// TestLargestPodCreateReview measures the largest AdmissionReview a Pod CREATE can produce on a
// real API server: it grows one env value of a Pod until the API server refuses to store it, and
// records the review body the API server sent for the largest Pod it stored (a webhook of its
// own, on loopback, sees every byte). Three shapes:
//   - plain text sent as JSON: the API server's 3 MiB request limit never binds; etcd's 1.5 MiB
//     request limit on the stored Pod does, and the review is about as large as the object;
//   - `<`, sent as protobuf: stored as one byte each, but the API server's JSON encoder writes
//     each as `\u003c` (six bytes) into the review;
//   - tens of thousands of env vars, sent as protobuf: a few bytes each when stored, but each has
//     its managedFields entry in the review.
//
// The body cap (review.MaxBodyBytes) must fit the first (docs/design.md, Bounds). The others are
// Pods built to inflate their review past it: they exist, so a body over the cap must be a failed
// call, never a denial (TestHostileConnectionsLeaveRealPodsInjected creates one).
func TestLargestPodCreateReview(t *testing.T) {
	ctx := context.Background()
	rec := startRecorder(t)
	ns := namespace(t, "bodycap", nil)

	jsonClient := inj.Client
	pb := rest.CopyConfig(inj.Config)
	pb.ContentType = "application/vnd.kubernetes.protobuf"
	pb.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	protoClient, err := kubernetes.NewForConfig(pb)
	if err != nil {
		t.Fatal(err)
	}
	plain := largestStoredPod(ctx, t, jsonClient, rec, ns, "plain", 4<<20, envValue('a'))
	escaped := largestStoredPod(ctx, t, protoClient, rec, ns, "escaped", 4<<20, envValue('<'))
	many := storedReview(ctx, t, protoClient, rec, ns, "many", manyEnvVars, envVars)
	t.Logf("largest stored Pod, plain-text env value of %d bytes (JSON request): review body %d bytes (%.2f MiB)",
		plain.n, plain.review, float64(plain.review)/(1<<20))
	t.Logf("largest stored Pod, env value of %d × '<' (protobuf request): review body %d bytes (%.2f MiB)",
		escaped.n, escaped.review, float64(escaped.review)/(1<<20))
	t.Logf("a stored Pod of %d env vars without values (protobuf request): review body %d bytes (%.2f MiB)",
		many.n, many.review, float64(many.review)/(1<<20))
	if plain.review >= review.MaxBodyBytes {
		t.Errorf("a plain Pod the API server stores gives a %d-byte review: the cap (%d) does not fit it", plain.review, review.MaxBodyBytes)
	}
	if escaped.review <= review.MaxBodyBytes || many.review <= review.MaxBodyBytes {
		t.Errorf("reviews of %d and %d bytes: no stored Pod gets past the %d-byte cap, the measure is broken", escaped.review, many.review, review.MaxBodyBytes)
	}
}

type stored struct{ n, review int }

// manyEnvVars is enough entries for a review over the cap, few enough to create in seconds (the
// API server's field manager is slow on long lists; the etcd limit would allow ~150,000).
const manyEnvVars = 65536

// envValue fills one env value with n times c.
func envValue(c byte) func(int) []corev1.EnvVar {
	return func(n int) []corev1.EnvVar {
		return []corev1.EnvVar{{Name: "FILLER", Value: strings.Repeat(string(c), n)}}
	}
}

// envVars is n env vars with short names and no value: the most structure (and managedFields)
// per stored byte.
func envVars(n int) []corev1.EnvVar {
	env := make([]corev1.EnvVar, n)
	for i := range env {
		env[i].Name = "E" + strconv.FormatInt(int64(i), 36)
	}
	return env
}

// storedReview creates one Pod with env(n) and returns the size of its review.
func storedReview(ctx context.Context, t *testing.T, client kubernetes.Interface, rec *recorder, ns, name string, n int, env func(int) []corev1.EnvVar) stored {
	t.Helper()
	pod := measuredPod(fmt.Sprintf("%s-%d", name, n), env(n))
	if _, err := client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating %s: %v", pod.Name, err)
	}
	got := stored{n: n, review: rec.size(pod.Name)}
	if got.review == 0 {
		t.Fatalf("the recording webhook never saw %s", pod.Name)
	}
	if err := client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))}); err != nil {
		t.Fatal(err)
	}
	return got
}

func measuredPod(name string, env []corev1.EnvVar) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{measureLabel: "true"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "dev", Image: "busybox", Env: env}}},
	}
}

// largestStoredPod bisects n in [0, hi) for the largest Pod with env(n) that the API server
// stores, and returns n with the size of its review.
func largestStoredPod(ctx context.Context, t *testing.T, client kubernetes.Interface, rec *recorder, ns, name string, hi int, env func(int) []corev1.EnvVar) stored {
	t.Helper()
	lo := 0 // lo is stored; hi is not
	var best stored
	for hi-lo > max(hi>>12, 1) {
		mid := (lo + hi) / 2
		pod := measuredPod(fmt.Sprintf("%s-%d", name, mid), env(mid))
		_, err := client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		switch {
		case err == nil:
			lo = mid
			best = stored{n: mid, review: rec.size(pod.Name)}
			if best.review == 0 {
				t.Fatalf("the recording webhook never saw %s", pod.Name)
			}
			if err := client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))}); err != nil {
				t.Fatal(err)
			}
		case strings.Contains(err.Error(), "too large"), strings.Contains(err.Error(), "larger than max"):
			hi = mid
		default:
			t.Fatalf("creating %s: %v", pod.Name, err)
		}
	}
	return best
}

// recorder is a webhook that admits everything and remembers the size of each review body by
// Pod name.
type recorder struct {
	mu    sync.Mutex
	sizes map[string]int
}

func (r *recorder) size(pod string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sizes[pod]
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &ar); err != nil || ar.Request == nil {
		http.Error(w, fmt.Sprintf("not a review: %v", err), http.StatusBadRequest)
		return
	}
	var meta struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	_ = json.Unmarshal(ar.Request.Object.Raw, &meta)
	r.mu.Lock()
	r.sizes[meta.Metadata.Name] = len(body)
	r.mu.Unlock()
	ar.Response = &admissionv1.AdmissionResponse{UID: ar.Request.UID, Allowed: true}
	ar.Request = nil
	_ = json.NewEncoder(w).Encode(ar)
}

// startRecorder serves a recorder over TLS on a loopback port and registers it for Pods
// labelled measureLabel, until the test ends.
func startRecorder(t *testing.T) *recorder {
	t.Helper()
	cert, err := harness.WriteServingCert(filepath.Join(t.TempDir(), "recorder"), []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(cert.Dir, "tls.crt"), filepath.Join(cert.Dir, "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{sizes: map[string]int{}}
	srv := &http.Server{Handler: rec, ReadHeaderTimeout: dialTimeout}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	ctx := context.Background()
	cfg := &regv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "e2e-review-size-recorder"},
		Webhooks: []regv1.MutatingWebhook{{
			Name: "record.e2e.tilt-lib.platform",
			ClientConfig: regv1.WebhookClientConfig{
				URL:      ptr.To("https://" + ln.Addr().String() + "/record"),
				CABundle: cert.CABundle,
			},
			Rules: []regv1.RuleWithOperations{{
				Operations: []regv1.OperationType{regv1.Create},
				Rule:       regv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
			}},
			ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{measureLabel: "true"}},
			SideEffects:             ptr.To(regv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To(int32(10)),
			FailurePolicy:           ptr.To(regv1.Fail), // a Pod the recorder did not see is not measured
		}},
	}
	api := inj.Client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	if _, err := api.Create(ctx, cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Delete(ctx, cfg.Name, metav1.DeleteOptions{}) })
	// The API server picks the registration up asynchronously: wait until a Pod goes through it.
	ns := namespace(t, "recorder", nil)
	err = harness.Poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		probe := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Labels: map[string]string{measureLabel: "true"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "dev", Image: "busybox"}}},
		}
		p, err := inj.Client.CoreV1().Pods(ns).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return false, err
		}
		return rec.size(p.Name) > 0 || rec.size("") > 0, nil
	})
	if err != nil {
		t.Fatalf("the recording webhook never took effect: %v", err)
	}
	return rec
}
