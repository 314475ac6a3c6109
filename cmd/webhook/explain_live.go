package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
	"github.com/platform-tools/tilt-lib-injector/pkg/explain"
	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/versions"
)

// access turns an API error into explain's: a missing permission names the verb and resource
// (and the chart's read-only role); a missing object names it. Both exit 1.
func access(err error, verb, resource, namespace, name string) error {
	what := resource
	if name != "" {
		what += " " + name
	}
	if namespace != "" {
		what += " in namespace " + namespace
	}
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("forbidden: cannot %s %s; grant %s on %s (the chart's explainRole.create=true ClusterRole has every read explain needs): %w",
			verb, what, verb, resource, err)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s not found", what)
	}
	return fmt.Errorf("%s %s: %w", verb, what, err)
}

// liveEnv is what a live explain read of the cluster.
type liveEnv struct {
	cs      kubernetes.Interface
	opts    mutate.Options
	cfg     tlconfig.Config
	webhook *explain.Webhook
	cms     *clusterConfigMaps
}

// explainLive reads the registration, the deployed configuration, the subject, its Namespace
// and the ConfigMaps, and explains.
func explainLive(ctx context.Context, f explainFlags, local tlconfig.Config, t target) ([]explain.Report, error) {
	rc, err := restConfig(f.kubeconfig)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("creating the client: %w", err)
	}
	ns := f.namespace
	if t.kind == "namespace" {
		ns = t.name
	} else if ns == "" {
		ns = contextNamespace(f.kubeconfig)
	}
	e := &liveEnv{cs: cs}
	if err := e.readWebhook(ctx, f.webhookConfig); err != nil {
		return nil, err
	}
	if f.fromFlags {
		e.cfg, e.webhook.ConfigSource = local, "local flags (--from-flags)"
		if e.opts, err = localOptions(local, f.versionsFile); err != nil {
			return nil, err
		}
	} else if err := e.readDeployed(ctx); err != nil {
		return nil, err
	}
	in, err := e.input(ctx, f, t, ns)
	if err != nil {
		return nil, err
	}
	if f.server {
		in.Server = e.dryRun(ctx, in.Pod, ns)
	}
	r, err := explain.Explain(in)
	if err != nil {
		return nil, err
	}
	return []explain.Report{r}, nil
}

// contextNamespace is the kubeconfig context's namespace, as kubectl's default; else default.
func contextNamespace(kubeconfig string) string {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	ns, _, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).Namespace()
	if err != nil || ns == "" {
		return "default"
	}
	return ns
}

// readWebhook reads the registration and the readiness of its Service's endpoints.
func (e *liveEnv) readWebhook(ctx context.Context, name string) error {
	e.webhook = &explain.Webhook{Name: name}
	mwc, err := e.cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return access(err, "get", "mutatingwebhookconfigurations.admissionregistration.k8s.io", "", name)
	}
	w := podWebhook(mwc)
	if w == nil {
		return nil // registered for no Pod CREATE: as good as absent
	}
	e.webhook.Found, e.webhook.Registered = true, mwc.CreationTimestamp.Time
	e.webhook.FailurePolicy = string(admissionv1.Fail) // the API's default
	if w.FailurePolicy != nil {
		e.webhook.FailurePolicy = string(*w.FailurePolicy)
	}
	if e.webhook.NamespaceSelector, err = selectorOf(w.NamespaceSelector); err != nil {
		return fmt.Errorf("%s namespaceSelector: %w", name, err)
	}
	if e.webhook.ObjectSelector, err = selectorOf(w.ObjectSelector); err != nil {
		return fmt.Errorf("%s objectSelector: %w", name, err)
	}
	if svc := w.ClientConfig.Service; svc != nil {
		e.webhook.Service = svc.Namespace + "/" + svc.Name
		return e.countEndpoints(ctx, svc.Namespace, svc.Name)
	}
	return nil
}

// podWebhook is the registration's webhook for Pod CREATE.
func podWebhook(mwc *admissionv1.MutatingWebhookConfiguration) *admissionv1.MutatingWebhook {
	for i, w := range mwc.Webhooks {
		for _, r := range w.Rules {
			if (slices.Contains(r.Resources, "pods") || slices.Contains(r.Resources, "*")) &&
				(slices.Contains(r.Operations, admissionv1.Create) || slices.Contains(r.Operations, admissionv1.OperationAll)) {
				return &mwc.Webhooks[i]
			}
		}
	}
	return nil
}

func selectorOf(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Everything(), nil
	}
	return metav1.LabelSelectorAsSelector(s)
}

// countEndpoints counts the ready endpoints of the Service (EndpointSlices: Endpoints is
// deprecated).
func (e *liveEnv) countEndpoints(ctx context.Context, ns, name string) error {
	slices, err := e.cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + name})
	if err != nil {
		return access(err, "list", "endpointslices.discovery.k8s.io", ns, "")
	}
	for _, s := range slices.Items {
		for _, ep := range s.Endpoints {
			e.webhook.Endpoints++
			if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
				e.webhook.Ready++
			}
		}
	}
	return nil
}

// readDeployed finds the Deployment behind the registration's Service and parses its webhook
// container's args with serve's own flag set, then reads the versions document they name.
func (e *liveEnv) readDeployed(ctx context.Context) error {
	if !e.webhook.Found || e.webhook.Service == "" {
		return errors.New("no registered webhook Service to read the configuration from: give --from-flags to decide with this command's flags")
	}
	ns, name, _ := strings.Cut(e.webhook.Service, "/")
	svc, err := e.cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return access(err, "get", "services", ns, name)
	}
	deps, err := e.cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return access(err, "list", "deployments.apps", ns, "")
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	for _, d := range deps.Items {
		if len(svc.Spec.Selector) == 0 || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			args := append(slices.Clone(c.Command[min(len(c.Command), 1):]), c.Args...)
			if len(args) > 0 && args[0] == "serve" {
				args = args[1:]
			} else if !slices.ContainsFunc(args, func(a string) bool {
				return strings.HasPrefix(a, "--port") || strings.HasPrefix(a, "--default-version")
			}) {
				continue // not the webhook container
			}
			cfg, err := serveConfig(args, containerEnv(c, ns), io.Discard)
			if err != nil {
				return fmt.Errorf("deployment %s/%s container %s args: %w", ns, d.Name, c.Name, err)
			}
			e.cfg, e.opts = cfg, cfg.MutateOptions()
			e.webhook.ConfigSource = fmt.Sprintf("deployment %s/%s args", ns, d.Name)
			return e.readVersions(ctx)
		}
	}
	return fmt.Errorf("no Deployment in %s runs a webhook container behind Service %s: give --from-flags to decide with this command's flags", ns, name)
}

// containerEnv looks TILTLIB_* variables up in the container's literal env; POD_NAMESPACE, which
// serve's default --service-namespace reads from its downward API, is the Deployment's namespace.
func containerEnv(c corev1.Container, ns string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		for _, v := range c.Env {
			if v.Name == k && v.ValueFrom == nil {
				return v.Value, true
			}
		}
		if k == tlconfig.EnvName("service-namespace") {
			return ns, true
		}
		return "", false
	}
}

// readVersions reads the versions document the deployed args name: its aliases are what the
// webhook serves.
func (e *liveEnv) readVersions(ctx context.Context) error {
	ns, name := e.cfg.VersionsObject()
	if name == "" {
		return nil
	}
	cm, err := e.cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil // the webhook serves the --alias flags until it exists
	}
	if err != nil {
		return access(err, "get", "configmaps", ns, name)
	}
	snap, err := versions.Build([]byte(cm.Data[versions.Key]), e.opts)
	if err != nil {
		return fmt.Errorf("versions document %s/%s: %w (the webhook keeps serving its last good one)", ns, name, err)
	}
	snap.Apply(&e.opts) // aliases and rollouts, as the webhook serves them
	e.webhook.ConfigSource += ", versions document " + ns + "/" + name
	return nil
}
