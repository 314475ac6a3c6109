//go:build !linux

package harness

import (
	"errors"
	"syscall"
)

// childAttrs: parent-death signals are Linux-only; elsewhere cleanup relies on Stop.
func childAttrs() *syscall.SysProcAttr { return nil }

func apiServerChild(string, string) (int, error) {
	return 0, errors.New("finding the kube-apiserver process needs /proc (Linux)")
}

func cmdline(int) ([]string, error) {
	return nil, errors.New("reading a command line needs /proc (Linux)")
}

func zombie(int) bool { return true }
