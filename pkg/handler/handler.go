package handler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/platform-tools/tilt-lib-injector/pkg/metrics"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Path is where the handler is served.
const Path = "/mutate-v1-pod"

// Namespaces answers a Namespace's annotations from a cache.
type Namespaces interface {
	NamespaceAnnotations(ctx context.Context, name string) (ann map[string]string, found bool, err error)
}

// Metrics records reviews (see pkg/metrics).
type Metrics interface {
	Observe(mutate.Result)
	Error(reason string)
	Ignored()
	Skipped(reason string)
}

// Events turns findings into Kubernetes Events without blocking (see pkg/events).
type Events interface {
	Emit(namespace string, findings []mutate.Finding)
}

// Handler mutates workspace Pods. All fields are required except Selector and Synced.
type Handler struct {
	Options    mutate.Options
	Namespaces Namespaces
	ConfigMaps mutate.ConfigMapLookup
	Metrics    Metrics
	Events     Events
	Log        logr.Logger
	// Selector picks the workspace Pods (serve passes --workspace-selector). A Pod it does not
	// match reached us through a webhook configuration broader than the chart's objectSelector:
	// it is allowed untouched (reason not_selected). Nil selects every Pod.
	Selector labels.Selector
	// Synced reports whether the caches behind Namespaces and ConfigMaps have synced. Until then
	// a cache read would block the review (or answer from a partial view), so the review is
	// answered at once with an error. Nil means always synced.
	Synced  func() bool
	decoder admission.Decoder
}

// New returns a Handler whose decoder knows core/v1.
func New(h Handler) *Handler {
	scheme := runtime.NewScheme()
	_ = corev1.AddToScheme(scheme) // registering a built-in group on a fresh scheme cannot fail
	h.decoder = admission.NewDecoder(scheme)
	return &h
}

var podResource = metav1.GroupVersionResource{Version: "v1", Resource: "pods"}

// Handle implements admission.Handler: filter, validate, decode, select, look up, mutate,
// record, answer.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	// Dry-run requests get the same answer but leave no trace: decided once, here.
	dryRun := req.DryRun != nil && *req.DryRun
	m, ev := h.Metrics, h.Events
	if dryRun {
		m, ev = noMetrics{}, noEvents{}
	}
	if req.Operation != admissionv1.Create || req.Resource != podResource || req.SubResource != "" {
		// A webhook rule broader than ours: never block what we do not understand.
		m.Ignored()
		return admission.Allowed("not a Pod CREATE; nothing to do")
	}
	if errs := validation.IsDNS1123Label(req.Namespace); len(errs) > 0 {
		// The API server always names a valid namespace; anything else is not from it, and the
		// name would otherwise reach log lines, cache keys and Event namespaces.
		m.Error(metrics.ReasonInvalidNamespace)
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("tilt-lib-injector: request.namespace %s is not a DNS-1123 label", strconv.Quote(truncate(req.Namespace))))
	}
	if h.Synced != nil && !h.Synced() {
		m.Error("not_ready")
		return admission.Errored(http.StatusServiceUnavailable, errors.New("tilt-lib-injector: caches not synced yet; retry"))
	}
	pod := &corev1.Pod{}
	if err := h.decoder.Decode(req, pod); err != nil {
		m.Error(metrics.ReasonDecode)
		h.Log.Error(err, "cannot decode the Pod", "namespace", req.Namespace, "uid", req.UID)
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("tilt-lib-injector: request object is not a decodable v1 Pod: %w", err))
	}
	if h.Selector != nil && !h.Selector.Matches(labels.Set(pod.Labels)) {
		m.Skipped(metrics.ReasonNotSelected)
		h.Log.V(1).Info("not a workspace Pod; admitted untouched", "namespace", req.Namespace, "pod", podName(pod), "reason", metrics.ReasonNotSelected, "dryRun", dryRun)
		return admission.Allowed("not a workspace Pod (--workspace-selector " + h.Selector.String() + "); nothing to do")
	}
	nsAnn, found, err := h.Namespaces.NamespaceAnnotations(ctx, req.Namespace)
	if err != nil {
		// Injecting with defaults would silently ignore the namespace's pin. The errored
		// response is a denial (the API server applies failurePolicy only to failed calls), so
		// the Pod's creator retries, e.g. the ReplicaSet controller with backoff.
		m.Error("cache_error")
		h.Log.Error(err, "namespace lookup failed", "namespace", req.Namespace)
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("tilt-lib-injector: %w", err))
	}
	if !found {
		h.Log.Info("namespace not in cache yet; using server defaults", "namespace", req.Namespace)
	}

	res := mutate.Mutate(h.Options, mutate.Request{
		Namespace:            req.Namespace,
		NamespaceAnnotations: nsAnn,
		Pod:                  pod,
		ConfigMaps:           h.ConfigMaps,
	})
	m.Observe(res)
	ev.Emit(req.Namespace, res.Findings)
	h.logResult(req, pod, res, dryRun)

	resp := admission.Allowed("")
	resp.Patches = res.Patch
	resp.Warnings = res.Warnings
	return resp
}

// podName is the Pod's name, else its generateName (a Pod being created often has only that),
// made safe for a log line.
func podName(pod *corev1.Pod) string {
	if pod.Name != "" {
		return logValue(pod.Name)
	}
	return logValue(pod.GenerateName)
}

func (h *Handler) logResult(req admission.Request, pod *corev1.Pod, res mutate.Result, dryRun bool) {
	// The namespace was validated as a DNS-1123 label; the Pod's names were not validated yet.
	kv := []any{"namespace", req.Namespace, "pod", podName(pod), "status", res.Status, "reason", res.Reason, "dryRun", dryRun}
	for _, in := range res.Injected {
		// Distinct keys per component: JSON log parsers keep only the last of duplicate keys.
		prefix := "" // tilt-lib keeps the house keys version/source
		if in.Component == mutate.TemplatesVolume {
			prefix = "templates"
		}
		kv = append(kv, key(prefix, "configMap"), in.ConfigMap, key(prefix, "version"), in.Version, key(prefix, "source"), in.Source)
	}
	if dryRun || res.Reason == mutate.ReasonNone || res.Reason.Trivial() {
		h.Log.V(1).Info("admitted", kv...)
		return
	}
	// Fallbacks, conflicts and invalid pins are worth an Info line: they are what an operator
	// greps for when a team reports the wrong tilt-lib.
	h.Log.Info("admitted with findings", kv...)
}

// key joins a prefix and a log key in camelCase: ("templates", "version") -> "templatesVersion".
func key(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + strings.ToUpper(k[:1]) + k[1:]
}
