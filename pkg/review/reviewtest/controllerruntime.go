package reviewtest

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/platform-tools/tilt-lib-injector/pkg/decide"
)

// decoder is controller-runtime's admission decoder for core/v1, as a kubebuilder webhook builds it.
var decoder = func() admission.Decoder {
	scheme := runtime.NewScheme()
	_ = corev1.AddToScheme(scheme) // registering a built-in group on a fresh scheme cannot fail
	return admission.NewDecoder(scheme)
}()

// ControllerRuntime is the decision of d as controller-runtime's admission.Handler: the Pod
// decoded with controller-runtime's decoder, the answer turned into an admission.Response. It is
// the path `webhook serve` took before pkg/review's Handler (serve it with admission.Webhook), kept
// as the oracle of pkg/review's differential tests and benchmarks and as the path FuzzHandle
// drives.
func ControllerRuntime(d *decide.Decider) admission.Handler {
	return admission.HandlerFunc(func(ctx context.Context, req admission.Request) admission.Response {
		a := d.Decide(ctx, decide.Request{
			UID:         req.UID,
			Operation:   req.Operation,
			Resource:    req.Resource,
			SubResource: req.SubResource,
			Namespace:   req.Namespace,
			DryRun:      req.DryRun != nil && *req.DryRun,
			Pod: func() (*corev1.Pod, error) {
				pod := &corev1.Pod{}
				return pod, decoder.Decode(req, pod)
			},
		})
		if !a.Allowed {
			return admission.Errored(a.Code, errors.New(a.Message))
		}
		resp := admission.Allowed(a.Message)
		resp.Patches = a.Patch
		resp.Warnings = a.Warnings
		return resp
	})
}

// DecodePod decodes an object the way ControllerRuntime does.
func DecodePod(raw []byte) (*corev1.Pod, error) {
	pod := &corev1.Pod{}
	return pod, decoder.DecodeRaw(runtime.RawExtension{Raw: raw}, pod)
}
