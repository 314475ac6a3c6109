package reviewtest

import (
	"encoding/json"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// ReviewUID is the request UID of every review built here.
const ReviewUID = types.UID("705ab4f5-6393-11e8-b7cc-42010a800002")

// Review is an AdmissionReview of apiVersion (admission.k8s.io/v1 or v1beta1) creating pod in
// namespace, as the API server sends it.
func Review(apiVersion, namespace string, pod *corev1.Pod, dryRun bool) ([]byte, error) {
	raw, err := json.Marshal(pod)
	if err != nil {
		return nil, fmt.Errorf("encoding the Pod: %w", err)
	}
	return ReviewRaw(apiVersion, namespace, raw, dryRun)
}

// ReviewRaw is Review with the Pod's bytes as given (which need not be a valid Pod).
func ReviewRaw(apiVersion, namespace string, raw []byte, dryRun bool) ([]byte, error) {
	ar := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       ReviewUID,
			Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Namespace: namespace,
			Operation: admissionv1.Create,
			UserInfo:  AuthnUser,
			Object:    runtime.RawExtension{Raw: raw},
			DryRun:    &dryRun,
		},
	}
	b, err := json.Marshal(ar)
	if err != nil {
		return nil, fmt.Errorf("encoding the review: %w", err)
	}
	return b, nil
}
