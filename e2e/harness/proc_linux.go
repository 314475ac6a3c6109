package harness

import "syscall"

// childAttrs starts the webhook in its own process group, so a Ctrl-C in the terminal reaches
// only the demo or test, which then stops the webhook itself (SIGTERM, wait); and makes the
// kernel send SIGTERM to the webhook if the parent dies without cleaning up (a `go test -timeout`
// panic, a SIGKILL), so no orphan keeps its port.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
