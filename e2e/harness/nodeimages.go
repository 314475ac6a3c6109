package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// WebhookImage is the injector's image on the node: cmd/webhook built as `make image` builds it
// (static, trimmed) for this machine's platform, packed by the same builder (hack/image webhook);
// the chart runs it with imagePullPolicy Never (NodeChartValues).
const (
	WebhookImageRepository = "localhost/tilt-lib-injector-e2e/webhook"
	WebhookImageTag        = "e2e"
)

// buildNodeImages builds the node's images with hack/image (its own module): pause and workspace
// (`image node`), and the webhook's (`image webhook`). It returns the three OCI tarballs.
func buildNodeImages(ctx context.Context, assetsDir, outDir string) ([]string, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return nil, fmt.Errorf("image dir: %w", err)
	}
	module := filepath.Join(root, "hack", "image")
	pause, builder, webhook := filepath.Join(outDir, "pause"), filepath.Join(outDir, "image"), filepath.Join(outDir, "webhook")
	for _, b := range []struct{ dir, pkg, out string }{
		{module, "./pause", pause}, {module, ".", builder}, {root, "./cmd/webhook", webhook},
	} {
		if err := staticBuild(ctx, b.dir, b.pkg, b.out); err != nil {
			return nil, err
		}
	}
	if _, err := runTool(ctx, builder, "node", "-pause", pause, "-busybox", filepath.Join(assetsDir, "busybox"), "-out", outDir); err != nil {
		return nil, err
	}
	webhookImage := filepath.Join(outDir, "webhook.oci.tar")
	if _, err := runTool(ctx, builder, "webhook", "-out", webhookImage, "-ref", WebhookImageRepository+":"+WebhookImageTag,
		"-version", WebhookImageTag, "-source", "e2e", "-binary", "linux/"+runtime.GOARCH+"="+webhook); err != nil {
		return nil, err
	}
	return []string{filepath.Join(outDir, "pause.oci.tar"), filepath.Join(outDir, "workspace.oci.tar"), webhookImage}, nil
}

// staticBuild builds pkg of the module in dir as `make image` does: no cgo, trimmed paths, no
// symbols.
func staticBuild(ctx context.Context, dir, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w -X main.version=e2e", "-o", out, pkg)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s in %s: %w\n%s", pkg, dir, err, b)
	}
	return nil
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
