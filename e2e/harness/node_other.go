//go:build !linux

package harness

import (
	"context"
	"errors"
	"net"
	"time"
)

// Node is Linux-only (containerd, kubelet, cgroups); elsewhere PrepareNode says so.
type Node struct{}

var errNodeLinuxOnly = errors.New(NodeUnavailable(""))

// PrepareNode fails: see NodeUnavailable.
func PrepareNode(context.Context, NodeOptions) (*Node, error) { return nil, errNodeLinuxOnly }

// APIServerFlags is empty without a node.
func (*Node) APIServerFlags() map[string]string { return nil }

// APIServerAddr is nil without a node (the API server's default address).
func (*Node) APIServerAddr() *net.TCPAddr { return nil }

// LogDir is empty without a node.
func (*Node) LogDir() string { return "" }

// SyncFrequency is zero without a node.
func (*Node) SyncFrequency() time.Duration { return 0 }

// Start fails: see NodeUnavailable.
func (*Node) Start(context.Context, *ControlPlane) error { return errNodeLinuxOnly }

// ImportImage fails: see NodeUnavailable.
func (*Node) ImportImage(context.Context, string) error { return errNodeLinuxOnly }

// CheckHostNetwork fails: see NodeUnavailable.
func (*Node) CheckHostNetwork() error { return errNodeLinuxOnly }

// Halt has nothing to stop.
func (*Node) Halt() error { return nil }

// Stop has nothing to stop.
func (*Node) Stop() error { return nil }
