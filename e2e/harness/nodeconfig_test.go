package harness

import (
	"encoding/json"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

func testLayout(t *testing.T) layout {
	t.Helper()
	_, cidr, err := net.ParseCIDR("10.213.7.0/24")
	if err != nil {
		t.Fatal(err)
	}
	return layout{Run: "/tmp/node/run", Assets: "/cache/tools", PodCIDR: cidr, Bridge: "tli-e2e0", KubeletPort: 40001, HealthzPort: 40002}
}

// TestCNIConfigStaysOnHost: the Pod network's invariants — no masquerade, no gateway or default
// route handed to Pods, the harness's own bridge, IPAM state in the run folder.
func TestCNIConfigStaysOnHost(t *testing.T) {
	l := testLayout(t)
	raw, err := cniConfig(l)
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Plugins []map[string]any `json:"plugins"`
	}
	if err := json.Unmarshal(raw, &conf); err != nil {
		t.Fatal(err)
	}
	bridge := conf.Plugins[0]
	if bridge["type"] != "bridge" || bridge["bridge"] != l.Bridge {
		t.Fatalf("first plugin %v, want the bridge %s", bridge, l.Bridge)
	}
	for _, key := range []string{"ipMasq", "isGateway", "isDefaultGateway"} {
		if v, ok := bridge[key]; ok && v != false {
			t.Errorf("bridge %s = %v: Pod traffic could leave the machine, or the plugin would enable IP forwarding", key, v)
		}
	}
	ipam := bridge["ipam"].(map[string]any)
	if _, ok := ipam["routes"]; ok {
		t.Errorf("IPAM hands Pods routes %v: a Pod must only reach its subnet", ipam["routes"])
	}
	if dir, _ := ipam["dataDir"].(string); !strings.HasPrefix(dir, l.Run+"/") {
		t.Errorf("host-local keeps its state in %q, outside the run folder (default /var/lib/cni)", dir)
	}
	if got := l.gateway().String(); got != "10.213.7.1" {
		t.Errorf("gateway %s, want the first address of the range", got)
	}
}

// TestNodeFilesUnderRunFolder: every path containerd and kubelet are told to write to is inside
// the run folder (read-only tools come from the assets folder): nothing lands in /var/lib,
// /run, /etc or /opt, where it would outlive the run.
func TestNodeFilesUnderRunFolder(t *testing.T) {
	l := testLayout(t)
	kubelet, err := kubeletConfig(l, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{"containerd config": containerdConfig(l), "kubelet config": string(kubelet),
		"kubelet args":            strings.Join(kubeletArgs(l, l.path("kubelet.kubeconfig")), " "),
		"controller-manager args": strings.Join(controllerManagerArgs(l, l.path("kcm.kubeconfig"), l.pki("ca.crt")), " ")}
	abs := regexp.MustCompile(`"(/[^"]*)"|=(/\S+)`)
	allowed := []string{l.Run + "/", l.Assets + "/", "/etc/resolv.conf"}
	for what, text := range texts {
		matches := abs.FindAllStringSubmatch(text, -1)
		if len(matches) < 3 {
			t.Fatalf("%s: found only %d paths; the check would prove nothing", what, len(matches))
		}
		for _, m := range matches {
			p := m[1] + m[2]
			ok := false
			for _, prefix := range allowed {
				ok = ok || strings.HasPrefix(p, prefix) || p == prefix
			}
			if !ok {
				t.Errorf("%s writes to %s, outside the run folder %s", what, p, l.Run)
			}
		}
	}
}

// TestKubeletConfigLoopback: kubelet serves on 127.0.0.1 only, with no unauthenticated port.
func TestKubeletConfigLoopback(t *testing.T) {
	raw, err := kubeletConfig(testLayout(t), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var conf map[string]any
	if err := json.Unmarshal(raw, &conf); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{
		"address": "127.0.0.1", "healthzBindAddress": "127.0.0.1", "readOnlyPort": float64(0),
		"syncFrequency": "2s", "configMapAndSecretChangeDetectionStrategy": "Watch", "failCgroupV1": false,
	} {
		if conf[key] != want {
			t.Errorf("kubelet %s = %v, want %v", key, conf[key], want)
		}
	}
	if anon := conf["authentication"].(map[string]any)["anonymous"].(map[string]any)["enabled"]; anon != false {
		t.Errorf("kubelet allows anonymous requests: %v", anon)
	}
}

// TestShimSocketDir: containerd refuses a shim socket folder over 42 characters; a run folder
// too deep for it falls back to containerd's default (which the teardown removes).
func TestShimSocketDir(t *testing.T) {
	l := testLayout(t)
	if got := l.shimSocketDir(); got != l.Run+"/s" {
		t.Errorf("shimSocketDir = %q, want it in the run folder", got)
	}
	l.Run = "/" + strings.Repeat("x", maxShimSocketDir)
	if got := l.shimSocketDir(); got != "" {
		t.Errorf("shimSocketDir = %q for a %d-character run folder, want containerd's default", got, len(l.Run))
	}
}
