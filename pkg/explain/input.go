package explain

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// ConfigMaps is what explain knows of the ConfigMaps: which exist in a namespace (the lookup the
// webhook uses), and where else one of a name does, for the hint.
type ConfigMaps interface {
	mutate.ConfigMapLookup
	// Namespaces returns the namespaces holding a ConfigMap of this name, sorted; nil when none
	// or unknown.
	Namespaces(name string) []string
}

// Input is everything Explain reads; the caller fills it from the cluster or from files.
type Input struct {
	Options mutate.Options
	// Workspaces is the webhook's --workspace-selector.
	Workspaces labels.Selector
	Subject    Subject
	// Pod is the Pod, or the workload's pod template as a Pod.
	Pod *corev1.Pod
	// Admitted: Pod is a live Pod that went through admission; its recorded choice is compared
	// with what it would get now.
	Admitted             bool
	NamespaceAnnotations map[string]string
	// NamespaceLabels are matched against the registration's namespace selector.
	NamespaceLabels map[string]string
	ConfigMaps      ConfigMaps
	// Webhook is the registration as read from the cluster; nil offline.
	Webhook *Webhook
	// Server is the outcome of --server's dry-run create; nil without it.
	Server *Server
	// Stragglers, for a namespace: its workspace Pods, each compared with what it would get now.
	Stragglers []*corev1.Pod
}

// Webhook is the MutatingWebhookConfiguration and what serves it.
type Webhook struct {
	// Name of the MutatingWebhookConfiguration; Found is false when it does not exist.
	Name  string
	Found bool
	// FailurePolicy of its Pod webhook: Ignore or Fail.
	FailurePolicy string
	// Ready and Endpoints count the endpoints of its Service (EndpointSlices).
	Ready, Endpoints int
	// Service is "namespace/name" of the Service it calls; empty when it calls a URL.
	Service string
	// Registered is the registration's creationTimestamp: a Pod created before it was never
	// seen by the webhook.
	Registered time.Time
	// NamespaceSelector and ObjectSelector are the registration's; nil matches everything.
	NamespaceSelector, ObjectSelector labels.Selector
	// ConfigSource says where the webhook's configuration was read: "deployment NS/NAME args".
	ConfigSource string
}

// Server is what the deployed webhook answered to a server-side dry-run create of the Pod.
type Server struct {
	// Err is why the dry run failed; empty when it ran.
	Err string
	// Pod is the Pod the API server returned.
	Pod *corev1.Pod
}
