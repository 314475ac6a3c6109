// Command nodeimage builds the two images the e2e node runs besides the webhook's, for this
// machine's architecture, as OCI layout tarballs for `ctr images import`:
//
//   - PauseRef: the sandbox image, one static binary (hack/image/pause) as /pause, user 65535.
//   - WorkspaceRef: a workspace shell, Debian's busybox-static as /bin/busybox with a symlink per
//     applet (`busybox --list`), /etc/passwd and /etc/group naming root and coder (1000), /tmp;
//     user 1000, like Coder's workspace images.
//
// Usage: nodeimage -pause bin/pause -busybox $(hack/tools.sh)/busybox -out DIR
// writes DIR/pause.oci.tar and DIR/workspace.oci.tar.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/platform-tools/tilt-lib-injector/hack/image/ocitar"
)

// The image names; e2e/harness pins the sandbox image to PauseRef and workspaces use WorkspaceRef.
const (
	PauseRef     = "localhost/tilt-lib-injector-e2e/pause:1"
	WorkspaceRef = "localhost/tilt-lib-injector-e2e/workspace:1"
)

// entry is one file of a layer: a regular file (Data) or a symlink (Link); directories are made
// for every parent.
type entry struct {
	Path string // without the leading slash
	Mode int64
	Data []byte
	Link string
}

func main() {
	pause := flag.String("pause", "", "static pause binary (go build ./pause)")
	busybox := flag.String("busybox", "", "static busybox binary (Debian's busybox-static)")
	out := flag.String("out", "", "directory for pause.oci.tar and workspace.oci.tar")
	flag.Parse()
	if err := run(*pause, *busybox, *out); err != nil {
		fmt.Fprintf(os.Stderr, "nodeimage: %v\n", err)
		os.Exit(1)
	}
}

func run(pauseBin, busyboxBin, out string) error {
	if pauseBin == "" || busyboxBin == "" || out == "" {
		return errors.New("need -pause, -busybox and -out")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	pause, err := os.ReadFile(pauseBin)
	if err != nil {
		return err
	}
	cfg := v1.Config{Entrypoint: []string{"/pause"}, User: "65535:65535"}
	if err := write(filepath.Join(out, "pause.oci.tar"), PauseRef, cfg,
		[]entry{{Path: "pause", Mode: 0o555, Data: pause}}); err != nil {
		return fmt.Errorf("pause image: %w", err)
	}
	files, err := workspaceFiles(busyboxBin)
	if err != nil {
		return err
	}
	cfg = v1.Config{Cmd: []string{"/bin/sh"}, User: "1000:1000", Env: []string{"PATH=/bin", "HOME=/home/coder"}}
	if err := write(filepath.Join(out, "workspace.oci.tar"), WorkspaceRef, cfg, files); err != nil {
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

// write stores a one-layer image of files with config cfg as an OCI layout tarball named ref.
func write(out, ref string, cfg v1.Config, files []entry) error {
	layerTar, err := layerOf(files)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, MediaType: types.OCILayer})
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Created = v1.Time{Time: ocitar.Epoch}
	cf.Config = cfg
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "oci-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	_, tag, _ := strings.Cut(ref[strings.LastIndex(ref, "/")+1:], ":")
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": tag,
		"io.containerd.image.name":          ref,
	})); err != nil {
		return err
	}
	return ocitar.Write(dir, out)
}

// layerOf is a tar of files (and their parent directories), sorted, root-owned, with fixed times.
func layerOf(files []entry) ([]byte, error) {
	dirs := map[string]bool{}
	for _, f := range files {
		for d := filepath.Dir(strings.TrimSuffix(f.Path, "/")); d != "."; d = filepath.Dir(d) {
			dirs[d+"/"] = true
		}
	}
	all := append([]entry(nil), files...)
	for d := range dirs {
		if !hasPath(files, d) {
			all = append(all, entry{Path: d, Mode: 0o755})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Path < all[j].Path })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range all {
		h := &tar.Header{Name: f.Path, Mode: f.Mode, ModTime: ocitar.Epoch, Format: tar.FormatPAX}
		switch {
		case strings.HasSuffix(f.Path, "/"):
			h.Typeflag = tar.TypeDir
		case f.Link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, f.Link
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func hasPath(files []entry, p string) bool {
	for _, f := range files {
		if f.Path == p {
			return true
		}
	}
	return false
}
