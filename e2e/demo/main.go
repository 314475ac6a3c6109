package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv("DEMO_ONCE") == "1"); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

// publishedSelector is the platform's marker the examples' ConfigMaps carry.
const publishedSelector = "tilt-lib.platform/published=true"

// registration names the demo's MutatingWebhookConfiguration. Not the chart's (the release's full
// name, tilt-lib-injector for the README's `helm install tilt-lib-injector`): helm refuses to take
// over an object it did not create, and `kubectl apply -k manifests/` would silently replace it.
const registration = "tilt-lib-injector-demo"

func run(ctx context.Context, out io.Writer, once bool) (err error) {
	why := harness.NodeUnavailable("")
	if why == "" {
		return runOnNode(ctx, out, once)
	}
	fmt.Fprintf(out, "No node in this demo (%s): the workspaces below are API objects; as root they run.\n", why)
	start := time.Now()
	fmt.Fprintln(out, "Starting etcd + kube-apiserver (loopback only) and building the webhook...")
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	var objs []*unstructured.Unstructured
	var straggler *corev1.Pod
	// The cluster had its teams, ConfigMaps and one running workspace before the injector was
	// installed: examples/ and the straggler are created while the webhook runs unregistered.
	// The recommended setup (examples/argocd): only the ConfigMaps the GitOps repo marks count.
	inj, err := harness.Start(ctx, harness.Options{WebhookConfigName: registration, WebhookArgs: []string{"--configmap-selector=" + publishedSelector, versionsFlag}, BeforeRegister: func(ctx context.Context, inj *harness.Injector) error {
		var err error
		if objs, err = inj.ApplyDir(ctx, filepath.Join(root, "examples")); err != nil {
			return fmt.Errorf("applying examples/: %w", err)
		}
		straggler, err = createStraggler(ctx, inj)
		return err
	}})
	if err != nil {
		if inj != nil {
			inj.KeepWorkDir()
			err = fmt.Errorf("%w (logs kept in %s)", err, inj.WorkDir)
			_ = inj.Close()
		}
		return err
	}
	defer func() {
		fmt.Fprintln(out, "Stopping the webhook, kube-apiserver and etcd...")
		if cerr := inj.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	fmt.Fprintf(out, "Control plane and webhook ready in %s: webhook pid %d serving on %s (Service %s/%s).\n\n",
		time.Since(start).Round(100*time.Millisecond), inj.Webhook.PID(), inj.Service.Addr(), inj.Service.Namespace, inj.Service.Name)

	fmt.Fprintf(out, "Applied examples/ before registering the webhook: %s.\n", summarize(objs))
	fmt.Fprintf(out, "The webhook counts only ConfigMaps matching --configmap-selector %s: the ones examples/ publishes.\n", publishedSelector)
	fmt.Fprintf(out, "Also created then: Pod %s/%s, a workspace that was running before the injector was\n", straggler.Namespace, straggler.Name)
	fmt.Fprintln(out, "installed. The webhook never saw it, so it has no mounts: a straggler (configmap=\"none\") below.")
	fmt.Fprintln(out)

	fmt.Fprintln(out, "No controller-manager runs here, so no ReplicaSet turns the Deployments into Pods:")
	fmt.Fprintln(out, "the demo creates one Pod from each Deployment's template, with generateName \"<deployment>-\",")
	fmt.Fprintln(out, "exactly as the ReplicaSet controller would. The webhook mutates it on admission.")
	fmt.Fprintln(out)
	rows, warnings, err := workspaces(ctx, inj, objs)
	if err != nil {
		return err
	}
	printTable(out, rows)
	for _, w := range warnings {
		fmt.Fprintf(out, "Warning: %s\n", w)
	}

	if err := printMetricsAndAdoption(ctx, out, inj); err != nil {
		return err
	}
	if err := showRollout(ctx, out, inj, root, "", false); err != nil {
		return err
	}
	stopDistributor, err := showDistribution(ctx, out, inj, root, []string{"--configmap-selector=" + publishedSelector}, "", false)
	if stopDistributor != nil {
		defer func() {
			if serr := stopDistributor(); serr != nil && err == nil {
				err = serr
			}
		}()
	}
	if err != nil {
		return err
	}
	if err := showExplain(ctx, out, inj, []string{"--configmap-selector=" + publishedSelector}, straggler.Namespace, straggler.Name); err != nil {
		return err
	}
	printTryIt(out, inj, "busybox")
	if once {
		return nil
	}
	fmt.Fprintln(out, "\nRunning until Ctrl-C.")
	<-ctx.Done()
	return nil
}

// printMetricsAndAdoption prints the injection counters, then adoption as the dashboard shows it
// once the webhook's gauge counts every workspace Pod.
func printMetricsAndAdoption(ctx context.Context, out io.Writer, inj *harness.Injector) error {
	sn, err := inj.Scrape(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nInjection metrics (http://%s/metrics):\n", inj.Webhook.MetricsAddr)
	for _, l := range sn.Lines(harness.InjectionsTotal, harness.ReviewsTotal) {
		fmt.Fprintf(out, "  %s\n", l)
	}
	adoptions, err := waitAdoption(ctx, inj)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nAdoption now, as the dashboard shows it (gauge %s on http://%s/metrics):\n", podsGauge, inj.Webhook.MetricsAddr)
	fmt.Fprint(out, renderAdoption(adoptions, inj.Service.Name))
	return nil
}

// printTryIt prints the commands a newcomer can try against the running demo; image is what
// `kubectl run` may start there.
func printTryIt(out io.Writer, inj *harness.Injector, image string) {
	fmt.Fprintf(out, "\nTry it yourself (kubectl is in %s):\n", inj.AssetsDir)
	fmt.Fprintf(out, "  export KUBECONFIG=%s\n", inj.Kubeconfig)
	fmt.Fprintf(out, "  export PATH=%s:$PATH\n", inj.AssetsDir)
	fmt.Fprintln(out, "  kubectl get pods -A -L tilt-lib.platform/version,tilt-lib.platform/templates-version")
	fmt.Fprintln(out, "  kubectl annotate namespace team-a tilt-lib.platform/version=v2")
	fmt.Fprintf(out, "  kubectl -n team-a run try-me --image=%s --labels=app.kubernetes.io/name=coder-workspace -- sleep infinity\n", image)
	fmt.Fprintln(out, `  kubectl -n team-a get pod try-me -o jsonpath='{.metadata.annotations.tilt-lib\.platform/injected}'`)
	fmt.Fprintf(out, "The demo's webhook is registered as MutatingWebhookConfiguration %s (Service %s/%s), so the\n", registration, inj.Service.Namespace, inj.Service.Name)
	fmt.Fprintln(out, "README's `helm install tilt-lib-injector charts/tilt-lib-injector -n tilt-system --create-namespace`")
	fmt.Fprintln(out, "installs next to it (its Pods need the image and a node; until they serve, failurePolicy Ignore admits Pods without it).")
}

// summarize counts the applied objects by kind: "2 Namespace, 6 ConfigMap, 2 Deployment".
func summarize(objs []*unstructured.Unstructured) string {
	var kinds []string
	count := map[string]int{}
	for _, o := range objs {
		k := o.GetKind()
		if count[k] == 0 {
			kinds = append(kinds, k)
		}
		count[k]++
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d %s", count[k], k)
	}
	return strings.Join(parts, ", ")
}
