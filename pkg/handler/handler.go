package handler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

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
}

// Events turns findings into Kubernetes Events without blocking (see pkg/events).
type Events interface {
	Emit(namespace string, findings []mutate.Finding)
}

// Handler mutates workspace Pods. All fields are required.
type Handler struct {
	Options    mutate.Options
	Namespaces Namespaces
	ConfigMaps mutate.ConfigMapLookup
	Metrics    Metrics
	Events     Events
	Log        logr.Logger
	// Synced reports whether the caches behind Namespaces and ConfigMaps have synced. Until then
	// a cache read would block the review (or answer from a partial view), so the review is
	// answered at once with an error and failurePolicy decides. Nil means always synced.
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

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	dryRun := req.DryRun != nil && *req.DryRun
	if req.Operation != admissionv1.Create || req.Resource != podResource || req.SubResource != "" {
		// A webhook rule broader than ours: never block what we do not understand.
		if !dryRun {
			h.Metrics.Ignored()
		}
		return admission.Allowed("not a Pod CREATE; nothing to do")
	}
	if h.Synced != nil && !h.Synced() {
		if !dryRun {
			h.Metrics.Error("not_ready")
		}
		return admission.Errored(http.StatusServiceUnavailable, errors.New("tilt-lib-injector: caches not synced yet; retry"))
	}
	pod := &corev1.Pod{}
	if err := h.decoder.Decode(req, pod); err != nil {
		if !dryRun {
			h.Metrics.Error("decode_error")
		}
		h.Log.Error(err, "cannot decode the Pod", "namespace", req.Namespace, "uid", req.UID)
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("tilt-lib-injector: request object is not a decodable v1 Pod: %w", err))
	}
	nsAnn, found, err := h.Namespaces.NamespaceAnnotations(ctx, req.Namespace)
	if err != nil {
		// Injecting with defaults would silently ignore the namespace's pin; an errored response
		// lets failurePolicy decide (Ignore: admitted un-injected and visible in the adoption
		// gauge; Fail: the client retries).
		if !dryRun {
			h.Metrics.Error("cache_error")
		}
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
	if !dryRun {
		h.Metrics.Observe(res)
		h.Events.Emit(req.Namespace, res.Findings)
	}
	h.logResult(req, pod, res, dryRun)

	resp := admission.Allowed("")
	resp.Patches = res.Patch
	resp.Warnings = res.Warnings
	return resp
}

func (h *Handler) logResult(req admission.Request, pod *corev1.Pod, res mutate.Result, dryRun bool) {
	name := pod.Name
	if name == "" {
		name = pod.GenerateName
	}
	kv := []any{"namespace", req.Namespace, "pod", name, "status", res.Status, "reason", res.Reason, "dryRun", dryRun}
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
