package decide

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Request is what the decision reads of one AdmissionRequest, whoever decoded it: pkg/review from
// its one-pass slim decode, the test-only controller-runtime oracle (reviewtest.ControllerRuntime)
// from controller-runtime's typed request.
type Request struct {
	UID         types.UID
	Operation   admissionv1.Operation
	Resource    metav1.GroupVersionResource
	SubResource string
	Namespace   string
	DryRun      bool
	// Pod returns the request's object as a Pod, or why it is not a decodable v1 Pod. It is called
	// at most once, and only once the cheap checks have passed, so a request we ignore or refuse
	// never pays for building the Pod. On pkg/review's path the object was already decoded, with the
	// rest of the review, into the slim view (and a decode error kept for this call): Pod only
	// checks its kind and builds the corev1.Pod from it. The controller-runtime oracle decodes the
	// object here.
	Pod func() (*corev1.Pod, error)
}

// Answer is the decision on one Request. Allowed with Code 200 admits (with Patch and Warnings,
// or with Message for a request we do not touch). An Answer that is not Allowed is never a
// denial: the webhook has no reason to deny a Pod. It means "no decision" (Code and Message say
// why), and pkg/review answers it with a failed call (HTTP Code, a metav1.Status with Message),
// to which the API server applies failurePolicy: Ignore admits the Pod un-injected, Fail refuses
// it with Message.
type Answer struct {
	Allowed  bool
	Code     int32
	Message  string
	Patch    []jsonpatch.Operation
	Warnings []string
}

func allowed(msg string) Answer { return Answer{Allowed: true, Code: http.StatusOK, Message: msg} }

// failed is an Answer without a decision (see Answer).
func failed(code int32, err error) Answer { return Answer{Code: code, Message: err.Error()} }

// Decide is the one decision of every admission path (pkg/review's, and the controller-runtime
// oracle of its tests): filter, validate, decode, select, look up, mutate, record.
func (d *Decider) Decide(ctx context.Context, r Request) Answer {
	// Dry-run requests get the same answer but leave no trace: decided once, here.
	m, ev := d.Metrics, d.Events
	if r.DryRun {
		m, ev = noMetrics{}, noEvents{}
	}
	if r.Operation != admissionv1.Create || r.Resource != podResource || r.SubResource != "" {
		// A webhook rule broader than ours: never block what we do not understand.
		m.Skipped(ReasonNotPodCreate)
		return allowed("not a Pod CREATE; nothing to do")
	}
	if errs := validation.IsDNS1123Label(r.Namespace); len(errs) > 0 {
		// The API server always names a valid namespace; anything else is not from it, and the
		// name would otherwise reach log lines, cache keys and Event namespaces.
		m.Error(ReasonInvalidNamespace)
		return failed(http.StatusBadRequest, fmt.Errorf("tilt-lib-injector: request.namespace %s is not a DNS-1123 label", strconv.Quote(truncate(r.Namespace))))
	}
	if d.Synced != nil && !d.Synced() {
		m.Error(ReasonNotReady)
		return failed(http.StatusServiceUnavailable, errors.New("tilt-lib-injector: caches not synced yet; retry"))
	}
	pod, err := r.Pod()
	if err != nil {
		m.Error(ReasonDecode)
		d.Log.Error(err, "cannot decode the Pod", "namespace", r.Namespace, "uid", r.UID)
		return failed(http.StatusBadRequest, fmt.Errorf("tilt-lib-injector: request object is not a decodable v1 Pod: %w", err))
	}
	if d.Selector != nil && !d.Selector.Matches(labels.Set(pod.Labels)) {
		m.Skipped(ReasonNotSelected)
		d.Log.V(1).Info("not a workspace Pod; admitted untouched", "namespace", r.Namespace, "pod", podName(pod), "reason", ReasonNotSelected, "dryRun", r.DryRun)
		return allowed("not a workspace Pod (--workspace-selector " + d.Selector.String() + "); nothing to do")
	}
	nsAnn, found, err := d.Namespaces.NamespaceAnnotations(ctx, r.Namespace)
	if err != nil {
		// Injecting with defaults would silently ignore the namespace's pin; a failed call lets
		// failurePolicy decide: Ignore admits the Pod un-injected (visible in the adoption
		// gauge and its alert), Fail refuses it and its creator retries.
		m.Error(ReasonCacheError)
		d.Log.Error(err, "namespace lookup failed; answered a failed call", "namespace", r.Namespace, "uid", logValue(string(r.UID)))
		return failed(http.StatusInternalServerError, fmt.Errorf("tilt-lib-injector: reading Namespace %s: %w", r.Namespace, err))
	}
	if !found {
		// Neither the cache nor the API server knows it (the API server itself refuses Pods in
		// a Namespace that does not exist, so only a request not from it gets here).
		d.Log.Info("namespace not found; using server defaults", "namespace", r.Namespace)
	}

	opts := d.Options
	if d.Versions != nil {
		d.Versions.Load().Apply(&opts) // one snapshot for the whole decision
	}
	res := mutate.Mutate(opts, mutate.Request{
		Namespace:            r.Namespace,
		NamespaceAnnotations: nsAnn,
		Pod:                  pod,
		ConfigMaps:           d.ConfigMaps,
	})
	m.Observe(res)
	ev.Emit(r.Namespace, res.Findings)
	d.logResult(r.Namespace, pod, res, r.DryRun)
	return Answer{Allowed: true, Code: http.StatusOK, Patch: res.Patch, Warnings: res.Warnings}
}
