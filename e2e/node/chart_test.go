//go:build e2e

package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/platform-tools/tilt-lib-injector/e2e/harness"
)

// TestChartRunsOnTheNode: `helm install` of the chart (TestMain did it, with the node's image of
// `image webhook` and the API server's address in extraEnv) runs both injector Pods on the node,
// Running and Ready through the chart's own probes, as the chart's user with a read-only root,
// no privilege escalation and no capabilities (read from the running processes, not the spec);
// each serves a certificate it issued itself from inside the Pod (in-cluster config, the chart's
// ServiceAccount, self mode), under the CA it wrote into the chart's webhook configuration; the
// Service's EndpointSlice lists both Pods ready; and a workspace Deployment in a pinned namespace
// is injected by them: the chart's registration is the only one, and their own counters move.
func TestChartRunsOnTheNode(t *testing.T) {
	ctx := context.Background()
	pods, err := chart.Pods(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 2 {
		t.Fatalf("%d injector Pods, want the chart's 2", len(pods))
	}
	var ips []string
	for _, p := range pods {
		if p.Spec.NodeName != harness.NodeName || p.Status.Phase != corev1.PodRunning || !harness.PodReady(&p) {
			t.Errorf("Pod %s: %s; want Running and Ready on %s", p.Name, harness.PodSummary(&p), harness.NodeName)
		}
		if p.Spec.ServiceAccountName != chart.FullName {
			t.Errorf("Pod %s runs as ServiceAccount %q, want the chart's %q", p.Name, p.Spec.ServiceAccountName, chart.FullName)
		}
		ips = append(ips, p.Status.PodIP)
	}
	assertRunsRestricted(t, len(pods))

	mwcs, err := inj.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(mwcs.Items) != 1 || mwcs.Items[0].Name != chart.FullName {
		t.Fatalf("webhook configurations %v, want only the chart's %s", names(mwcs.Items), chart.FullName)
	}
	hook := mwcs.Items[0].Webhooks[0]
	if svc := hook.ClientConfig.Service; svc == nil || svc.Name != chart.FullName || svc.Namespace != releaseNS || hook.ClientConfig.URL != nil {
		t.Fatalf("the webhook is called at %+v, want the chart's Service %s/%s", hook.ClientConfig, releaseNS, chart.FullName)
	}
	if _, err := inj.Client.CoreV1().Secrets(releaseNS).Get(ctx, chart.FullName+"-certs", metav1.GetOptions{}); err != nil {
		t.Errorf("the certificate Secret the Pods keep: %v", err)
	}
	for _, ip := range ips {
		assertServesIssuedCert(t, ip, hook.ClientConfig.CABundle)
	}
	assertEndpointsReady(t, ips)

	before := injections(t, pods)
	w := startExampleWorkspace(t, "team-b.yaml", "team-b-chart", "tilt-lib-v2")
	rec, ok, err := harness.InjectedRecord(w.pod)
	if err != nil || !ok || rec.Lib == nil || rec.Lib.ConfigMap != w.lib.Name {
		t.Fatalf("Pod %s not injected with %s: record %+v, present %v, err %v", w.pod.Name, w.lib.Name, rec, ok, err)
	}
	if got, want := mustExec(t, w, "cat", "/apps/tilt-lib/tilt_lib.star"), w.lib.Data["tilt_lib.star"]; got != want {
		t.Errorf("/apps/tilt-lib/tilt_lib.star:\n%s\nwant ConfigMap %s's:\n%s", got, w.lib.Name, want)
	}
	if after := injections(t, pods); after != before+1 {
		t.Errorf("tilt-lib injections counted by the chart's Pods: %v before the workspace, %v after; want one more", before, after)
	}
}

// assertRunsRestricted finds the webhook processes kubelet started (in its kubepods cgroup,
// running /webhook serve) and checks what the chart asks for is what runs: uid and gid 65532,
// no_new_privs, no effective capability, seccomp filtering, and a read-only root filesystem.
func assertRunsRestricted(t *testing.T, want int) {
	t.Helper()
	procs, err := webhookProcesses()
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != want {
		t.Fatalf("%d webhook processes under kubepods, want %d", len(procs), want)
	}
	for _, pid := range procs {
		status, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
		if err != nil {
			t.Fatal(err)
		}
		fields := map[string]string{}
		for _, line := range strings.Split(string(status), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				fields[k] = strings.Join(strings.Fields(v), " ")
			}
		}
		for k, v := range map[string]string{
			"Uid": "65532 65532 65532 65532", "Gid": "65532 65532 65532 65532",
			"NoNewPrivs": "1", "CapEff": "0000000000000000", "Seccomp": "2",
		} {
			if fields[k] != v {
				t.Errorf("webhook pid %s: %s %q, want %q", pid, k, fields[k], v)
			}
		}
		if opts, err := rootMountOptions(pid); err != nil || !slices.Contains(strings.Split(opts, ","), "ro") {
			t.Errorf("webhook pid %s: root mounted %q (%v), want read-only", pid, opts, err)
		}
	}
}

// webhookProcesses are the PIDs of processes in a kubepods cgroup whose command line is
// `/webhook serve ...`.
func webhookProcesses() ([]string, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err1 := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cgroup, err2 := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		if err1 != nil || err2 != nil { // exited meanwhile
			continue
		}
		if strings.HasPrefix(string(cmdline), "/webhook\x00serve\x00") && strings.Contains(string(cgroup), "/kubepods") {
			pids = append(pids, e.Name())
		}
	}
	return pids, nil
}

// rootMountOptions are the per-mount options of the process's root filesystem.
func rootMountOptions(pid string) (string, error) {
	info, err := os.ReadFile(filepath.Join("/proc", pid, "mountinfo"))
	if err != nil {
		return "", err
	}
	opts := ""
	for _, line := range strings.Split(string(info), "\n") {
		if f := strings.Fields(line); len(f) > 5 && f[4] == "/" {
			opts = f[5] // the last mount on / is the one the process sees
		}
	}
	if opts == "" {
		return "", fmt.Errorf("no mount on / in /proc/%s/mountinfo", pid)
	}
	return opts, nil
}

// assertServesIssuedCert: the Pod at ip serves, on the chart's webhook port, a certificate for the
// chart's Service that chains to the caBundle of the webhook configuration (both written by the
// Pods in self mode: nothing else here issues certificates for it).
func assertServesIssuedCert(t *testing.T, ip string, caBundle []byte) {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caBundle) {
		t.Fatalf("the webhook configuration's caBundle holds no certificate (%d bytes)", len(caBundle))
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{
		RootCAs: roots, ServerName: chart.FullName + "." + releaseNS + ".svc", MinVersion: tls.VersionTLS12,
	}}
	conn, err := d.DialContext(context.Background(), "tcp", net.JoinHostPort(ip, "9443"))
	if err != nil {
		t.Errorf("TLS to the injector Pod %s:9443 with the caBundle: %v", ip, err)
		return
	}
	_ = conn.Close()
}

// assertEndpointsReady: the chart Service's EndpointSlices (what the API server resolves the
// Service to, NodeChartAPIServerFlags) list exactly the injector Pods, ready, on the webhook port.
func assertEndpointsReady(t *testing.T, podIPs []string) {
	t.Helper()
	slices_, err := inj.Client.DiscoveryV1().EndpointSlices(releaseNS).List(context.Background(), metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + chart.FullName})
	if err != nil {
		t.Fatal(err)
	}
	var ready []string
	port := int32(0)
	for _, s := range slices_.Items {
		for _, p := range s.Ports {
			if p.Name != nil && *p.Name == "webhook" && p.Port != nil {
				port = *p.Port
			}
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && *e.Conditions.Ready {
				ready = append(ready, e.Addresses...)
			}
		}
	}
	slices.Sort(ready)
	want := slices.Sorted(slices.Values(podIPs))
	if !slices.Equal(ready, want) || port != 9443 {
		t.Errorf("ready endpoints of Service %s: %v on port %d, want the Pods %v on 9443", chart.FullName, ready, port, want)
	}
}

// injections sums tiltlib_injections_total{component="tilt-lib"} over the chart's Pods.
func injections(t *testing.T, pods []corev1.Pod) float64 {
	t.Helper()
	sum := 0.0
	for i := range pods {
		sn, err := chart.ScrapePod(context.Background(), &pods[i])
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range sn.Families[harness.InjectionsTotal].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "component" && l.GetValue() == "tilt-lib" {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func names[T any, P interface {
	*T
	GetName() string
}](items []T) []string {
	out := make([]string, len(items))
	for i := range items {
		out[i] = P(&items[i]).GetName()
	}
	return out
}
