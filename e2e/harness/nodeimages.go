package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// buildNodeImages builds the node's pause and workspace images (hack/image/nodeimage, in the
// image builder's own module) into outDir and returns the two OCI tarballs.
func buildNodeImages(ctx context.Context, assetsDir, outDir string) ([]string, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return nil, fmt.Errorf("image dir: %w", err)
	}
	module := filepath.Join(root, "hack", "image")
	pause, builder := filepath.Join(outDir, "pause"), filepath.Join(outDir, "nodeimage")
	for pkg, out := range map[string]string{"./pause": pause, "./nodeimage": builder} {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
		cmd.Dir, cmd.Env = module, append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s in hack/image: %w\n%s", pkg, err, b)
		}
	}
	if _, err := runTool(ctx, builder, "-pause", pause, "-busybox", filepath.Join(assetsDir, "busybox"), "-out", outDir); err != nil {
		return nil, err
	}
	return []string{filepath.Join(outDir, "pause.oci.tar"), filepath.Join(outDir, "workspace.oci.tar")}, nil
}

// runTool runs a command and returns its stdout; the error carries its stderr.
func runTool(ctx context.Context, binary string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", filepath.Base(binary), strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
