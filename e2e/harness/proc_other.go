//go:build !linux

package harness

import "syscall"

// childAttrs: parent-death signals are Linux-only; elsewhere cleanup relies on Stop.
func childAttrs() *syscall.SysProcAttr { return nil }
