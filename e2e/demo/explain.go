package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// showExplain ends the demo with `webhook explain` of a pinned workspace (team-b's Deployment)
// and of the straggler (created before the webhook). The demo's webhook runs as a process, not
// as a Deployment explain could read its args from, so explain decides with the same decision
// flags given on its command line (--from-flags); it still reads the demo's registration, the
// Pods, Namespaces and ConfigMaps from the cluster.
func showExplain(ctx context.Context, out io.Writer, inj *harness.Injector, flags []string, stragglerNS, stragglerPod string) error {
	if err := markEndpoint(ctx, inj); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nWhy did each workspace get its library? `webhook explain` runs the webhook's own decision, one row per layer.")
	fmt.Fprintf(out, "(The demo's webhook is a process serving on the Service's ClusterIP, not a Pod: the demo writes the\n")
	fmt.Fprintf(out, "EndpointSlice %s/%s an endpoint controller would, at a documentation address nothing dials, so the\n", inj.Service.Namespace, demoEndpoints)
	fmt.Fprintln(out, "registration row counts one ready replica.)")
	for _, target := range [][]string{
		{"deploy/coder-bob-dev", "-n", "team-b"},
		{"pod/" + stragglerPod, "-n", stragglerNS},
	} {
		args := append(append([]string{"explain"}, target...), "--kubeconfig="+inj.Kubeconfig, "--webhook-config-name="+registration, "--from-flags")
		args = append(args, flags...)
		cmd := exec.CommandContext(ctx, inj.Webhook.Binary, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			code = exit.ExitCode()
		case err != nil:
			return fmt.Errorf("running webhook explain: %w", err)
		}
		if code == 1 {
			return fmt.Errorf("webhook explain %s: exit 1: %s", strings.Join(target, " "), stderr.String())
		}
		fmt.Fprintf(out, "\n$ %s\n", strings.Join(append([]string{"webhook explain", strings.Join(target, " "), "--from-flags"}, flags...), " "))
		for _, l := range strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n") {
			fmt.Fprintf(out, "  %s\n", l)
		}
		fmt.Fprintf(out, "(exit %d: %s)\n", code, exitMeaning(code))
	}
	return nil
}

// demoEndpoints names the demo's EndpointSlice.
const demoEndpoints = "tilt-lib-injector-demo"

// markEndpoint writes the EndpointSlice of the demo's Service, one ready endpoint at 192.0.2.1
// (TEST-NET-1, RFC 5737: never routed). Without --enable-aggregator-routing (the demo's API server
// has none) the API server calls the Service's ClusterIP, where the webhook process listens, and
// never this address; explain reads it as a replica's readiness. Loopback addresses are refused in
// an EndpointSlice.
func markEndpoint(ctx context.Context, inj *harness.Injector) error {
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: demoEndpoints, Namespace: inj.Service.Namespace, Labels: map[string]string{
			discoveryv1.LabelServiceName: inj.Service.Name, discoveryv1.LabelManagedBy: "tilt-lib-injector-demo",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
	}
	if _, err := inj.Client.DiscoveryV1().EndpointSlices(inj.Service.Namespace).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the demo's EndpointSlice: %w", err)
	}
	return nil
}

func exitMeaning(code int) string {
	switch code {
	case 0:
		return "no ×"
	case 3:
		return "a × row: something to fix"
	case 4:
		return "only ‼ rows, with --strict"
	}
	return "unexpected"
}
