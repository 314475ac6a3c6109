package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// fakeBusybox is a stand-in for busybox-static: the builder only copies it and asks it for its
// applets.
const fakeBusybox = "#!/bin/sh\n[ \"$1\" = --list ] && printf 'sh\\ncat\\nsleep\\nbusybox\\n'\n"

// TestNodeImages: `image node` writes both tarballs as OCI layouts named as the harness expects,
// each an index with this machine's platform (the path the webhook's image takes); the pause image
// runs /pause as a non-root user; the workspace image has busybox with a symlink per applet, the
// users it runs as, a world-writable /tmp, and runs as uid 1000.
func TestNodeImages(t *testing.T) {
	dir := t.TempDir()
	pause, busybox := filepath.Join(dir, "pause"), filepath.Join(dir, "busybox")
	if err := os.WriteFile(pause, []byte("pause-binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(busybox, []byte(fakeBusybox), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := run([]string{"node", "-pause", pause, "-busybox", busybox, "-out", out}); err != nil {
		t.Fatal(err)
	}

	files, cfgUser, entry := image(t, filepath.Join(out, "pause.oci.tar"), PauseRef)
	if cfgUser != "65535:65535" || !slices.Equal(entry, []string{"/pause"}) {
		t.Errorf("pause image: user %q entrypoint %q", cfgUser, entry)
	}
	if h := files["pause"]; h == nil || h.Mode&0o111 == 0 {
		t.Errorf("pause image: /pause missing or not executable: %+v", h)
	}

	files, cfgUser, _ = image(t, filepath.Join(out, "workspace.oci.tar"), WorkspaceRef)
	if cfgUser != "1000:1000" {
		t.Errorf("workspace image user %q, want 1000:1000", cfgUser)
	}
	for _, applet := range []string{"sh", "cat", "sleep"} {
		if h := files["bin/"+applet]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "busybox" {
			t.Errorf("bin/%s: %+v, want a symlink to busybox", applet, h)
		}
	}
	if h := files["bin/busybox"]; h == nil || h.Typeflag != tar.TypeReg || h.Mode&0o111 == 0 {
		t.Errorf("bin/busybox: %+v, want an executable file", h)
	}
	if h := files["tmp/"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("tmp/: %+v, want mode 1777", h)
	}
	if h := files["etc/"]; h == nil || h.Typeflag != tar.TypeDir {
		t.Errorf("parent directory etc/ missing: %+v", h)
	}
}

// TestRunRefusesBadArguments: no image, an unknown one, or a node build without its inputs is a
// clear error.
func TestRunRefusesBadArguments(t *testing.T) {
	for _, args := range [][]string{nil, {"nginx"}, {"node", "-out", t.TempDir()}, {"webhook", "-ref", "r/x:1"}} {
		if err := run(args); err == nil {
			t.Errorf("image %q: no error", args)
		}
	}
}

// namedIndex opens an OCI layout tarball and checks that its index.json holds exactly one OCI
// index, named ref for containerd; it returns that entry, the index and the index's manifest.
func namedIndex(t *testing.T, file, ref string) (v1.Descriptor, v1.ImageIndex, *v1.IndexManifest) {
	t.Helper()
	top, err := layout.Path(untar(t, file)).ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	topm, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(topm.Manifests) != 1 || topm.Manifests[0].Annotations["io.containerd.image.name"] != ref || topm.Manifests[0].MediaType != types.OCIImageIndex {
		t.Fatalf("%s: index %+v, want one OCI index named %s", file, topm.Manifests, ref)
	}
	idx, err := top.ImageIndex(topm.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	return topm.Manifests[0], idx, im
}

// image opens an OCI layout tarball, checks it is one index named ref holding one image for this
// machine's platform, and returns that image's one layer's headers by name with the config's user
// and entrypoint.
func image(t *testing.T, file, ref string) (map[string]*tar.Header, string, []string) {
	t.Helper()
	_, idx, im := namedIndex(t, file, ref)
	if len(im.Manifests) != 1 || im.Manifests[0].Platform.OS != "linux" || im.Manifests[0].Platform.Architecture != runtime.GOARCH {
		t.Fatalf("%s: platforms %+v, want linux/%s only", file, im.Manifests, runtime.GOARCH)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%s: %d layers (%v), want 1", file, len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = h
	}
	return files, cf.Config.User, cf.Config.Entrypoint
}
