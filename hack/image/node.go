package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The e2e node's image names; e2e/harness pins the sandbox image to PauseRef and workspaces use
// WorkspaceRef (e2e/harness/nodeconfig.go names them too; they must match).
const (
	PauseRef     = "localhost/tilt-lib-injector-e2e/pause:1"
	WorkspaceRef = "localhost/tilt-lib-injector-e2e/workspace:1"
)

// buildNode writes the e2e node's two images besides the webhook's, for this machine's platform,
// into out as pause.oci.tar and workspace.oci.tar:
//
//   - PauseRef: the sandbox image, one static binary (hack/image/pause) as /pause, user 65535.
//   - WorkspaceRef: a workspace shell, Debian's busybox-static as /bin/busybox with a symlink per
//     applet (`busybox --list`), /etc/passwd and /etc/group naming root and coder (1000), /tmp;
//     user 1000, like Coder's workspace images.
func buildNode(pauseBin, busyboxBin, out string) error {
	if pauseBin == "" || busyboxBin == "" || out == "" {
		return errors.New("need -pause, -busybox and -out")
	}
	platform := "linux/" + runtime.GOARCH
	pause, err := os.ReadFile(pauseBin)
	if err != nil {
		return err
	}
	img, err := platformImage(platform, v1.Config{Entrypoint: []string{"/pause"}, User: "65535:65535"},
		[]entry{{Path: "pause", Mode: 0o555, Data: pause}})
	if err == nil {
		err = writeIndex(filepath.Join(out, "pause.oci.tar"), PauseRef, map[string]v1.Image{platform: img})
	}
	if err != nil {
		return fmt.Errorf("pause image: %w", err)
	}
	files, err := workspaceFiles(busyboxBin)
	if err != nil {
		return err
	}
	cfg := v1.Config{Cmd: []string{"/bin/sh"}, User: "1000:1000", Env: []string{"PATH=/bin", "HOME=/home/coder"}}
	img, err = platformImage(platform, cfg, files)
	if err == nil {
		err = writeIndex(filepath.Join(out, "workspace.oci.tar"), WorkspaceRef, map[string]v1.Image{platform: img})
	}
	if err != nil {
		return fmt.Errorf("workspace image: %w", err)
	}
	return nil
}

// workspaceFiles is busybox with its applets, and the users the workspace runs as.
func workspaceFiles(busyboxBin string) ([]entry, error) {
	bin, err := os.ReadFile(busyboxBin)
	if err != nil {
		return nil, err
	}
	list, err := exec.Command(busyboxBin, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", busyboxBin, err)
	}
	files := []entry{
		{Path: "bin/busybox", Mode: 0o755, Data: bin},
		{Path: "etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\ncoder:x:1000:1000:coder:/home/coder:/bin/sh\n")},
		{Path: "etc/group", Mode: 0o644, Data: []byte("root:x:0:\ncoder:x:1000:\n")},
		{Path: "tmp/", Mode: 0o1777},
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet != "busybox" && !strings.Contains(applet, "/") {
			files = append(files, entry{Path: "bin/" + applet, Mode: 0o777, Link: "busybox"})
		}
	}
	return files, nil
}
