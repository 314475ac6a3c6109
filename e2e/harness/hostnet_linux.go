package harness

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// The Pod network lives on this machine only: a bridge the harness creates with the gateway
// address (so the host reaches Pods, e.g. the API server calling webhook Pods), no IP forwarding,
// no masquerade, no route in the Pods beyond their subnet. hostRoutes and checkPodNetwork prove it.

// ip runs the iproute2 `ip` command (present wherever kubelet runs).
func ip(args ...string) (string, error) {
	var out, stderr bytes.Buffer
	cmd := exec.Command("ip", args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out.String(), nil
}

func linkExists(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name))
	return err == nil
}

// createBridge creates the Pod bridge with the gateway address and brings it up.
func createBridge(name string, gateway net.IP, cidr *net.IPNet) error {
	ones, _ := cidr.Mask.Size()
	for _, args := range [][]string{
		{"link", "add", "name", name, "type", "bridge"},
		{"addr", "add", fmt.Sprintf("%s/%d", gateway, ones), "dev", name},
		{"link", "set", name, "up"},
	} {
		if _, err := ip(args...); err != nil {
			return fmt.Errorf("creating the Pod bridge: %w", err)
		}
	}
	return nil
}

// deleteLink deletes an interface (the bridge, or a Pod's veth: both ends go). One that vanished
// meanwhile (its namespace was cleaned up) is no error.
func deleteLink(name string) error {
	if _, err := ip("link", "del", name); err != nil && linkExists(name) {
		return fmt.Errorf("deleting interface %s: %w", name, err)
	}
	return nil
}

// bridgePorts lists the interfaces attached to bridge.
func bridgePorts(bridge string) []string {
	entries, err := os.ReadDir(filepath.Join("/sys/class/net", bridge, "brif"))
	if err != nil {
		return nil
	}
	ports := make([]string, 0, len(entries))
	for _, e := range entries {
		ports = append(ports, e.Name())
	}
	return ports
}

// expiresRE matches the countdown of a learned IPv6 route, which changes every second.
var expiresRE = regexp.MustCompile(` expires [0-9]+sec`)

// hostRoutes are the host's IPv4 and IPv6 routes of the main tables, one normalised line each.
func hostRoutes() ([]string, error) {
	var out []string
	for _, family := range []string{"-4", "-6"} {
		text, err := ip("-o", family, "route", "show", "table", "main")
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(text, "\n") {
			line = strings.Join(strings.Fields(expiresRE.ReplaceAllString(line, "")), " ")
			if line != "" {
				out = append(out, line)
			}
		}
	}
	return out, nil
}

// CheckHostRoutes verifies, while the node runs, that the only routes added since before the run
// lead into the Pod bridge (or a Pod's veth attached to it): no default route, nothing that would
// send Pod traffic off the machine.
func (s *nodeState) checkRoutes() error {
	now, err := hostRoutes()
	if err != nil {
		return err
	}
	added, removed := diffLines(s.Routes, now)
	var errs []error
	if len(removed) > 0 {
		errs = append(errs, fmt.Errorf("routes removed while the node runs: %q", removed))
	}
	for _, r := range added {
		dev := routeDev(r)
		if strings.HasPrefix(r, "default ") || (dev != s.Bridge && bridgeOf(dev) != s.Bridge) {
			errs = append(errs, fmt.Errorf("route %q does not stay on the Pod bridge %s", r, s.Bridge))
		}
	}
	return errors.Join(errs...)
}

// routeDev is the device of an `ip route` line ("" when none).
func routeDev(route string) string {
	f := strings.Fields(route)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "dev" {
			return f[i+1]
		}
	}
	return ""
}

// bridgeOf is the bridge an interface is attached to ("" when none).
func bridgeOf(dev string) string {
	if dev == "" {
		return ""
	}
	target, err := os.Readlink(filepath.Join("/sys/class/net", dev, "master"))
	if errors.Is(err, fs.ErrNotExist) || err != nil {
		return ""
	}
	return filepath.Base(target)
}

// overlappingRoute returns a host route whose destination overlaps cidr, "" when none: the Pod
// range must be unused on this machine.
func overlappingRoute(routes []string, cidr *net.IPNet) string {
	for _, r := range routes {
		dst := strings.Fields(r)[0]
		if dst == "default" || strings.Contains(dst, ":") {
			continue // the Pod range is IPv4
		}
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		_, n, err := net.ParseCIDR(dst)
		if err == nil && (n.Contains(cidr.IP) || cidr.Contains(n.IP)) {
			return r
		}
	}
	return ""
}
