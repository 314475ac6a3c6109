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

// Module is the module path of the repository the harness builds from.
const Module = "github.com/platform-tools/tilt-lib-injector"

// RepoRoot walks up from the working directory to the go.mod of Module, so the tests (run in
// e2e/) and the demo (run from the root by `make demo`) find the same tree.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module "+Module+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory", Module)
		}
		dir = parent
	}
}

// GoBuild builds pkg (e.g. "./cmd/webhook") of the repository at root into out, with the build
// tags given (the e2e suite's fault seam: FaultTag). The build cache makes a rebuild of an
// unchanged tree take about a second.
func GoBuild(ctx context.Context, root, pkg, out string, tags ...string) error {
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s %v: %w\n%s", pkg, tags, err, stderr.String())
	}
	return nil
}
