package harness

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// apiServerChild finds the kube-apiserver this process started (envtest does not export its PID):
// a child of ours running binary, with --cert-dir=certDir on its command line.
func apiServerChild(binary, certDir string) (int, error) {
	for _, p := range childrenRunning(binary) {
		args, err := cmdline(p.PID)
		if err != nil {
			continue
		}
		for _, a := range args {
			if a == "--cert-dir="+certDir {
				return p.PID, nil
			}
		}
	}
	return 0, fmt.Errorf("no running kube-apiserver child with --cert-dir=%s", certDir)
}

// cmdline reads the command line of pid from /proc.
func cmdline(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil, fmt.Errorf("command line of pid %d: %w", pid, err)
	}
	args := strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
	if len(args) == 0 || args[0] == "" {
		return nil, fmt.Errorf("pid %d has an empty command line", pid)
	}
	return args, nil
}
