package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// fakeBusybox is a stand-in for busybox-static: the builder only copies it and asks it for its
// applets.
const fakeBusybox = "#!/bin/sh\n[ \"$1\" = --list ] && printf 'sh\\ncat\\nsleep\\nbusybox\\n'\n"

// TestNodeImages: both tarballs are OCI layouts named as the harness expects; the pause image
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
	if err := run(pause, busybox, out); err != nil {
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

// image opens an OCI layout tarball, checks it names ref, and returns its one layer's headers by
// name with the config's user and entrypoint.
func image(t *testing.T, file, ref string) (map[string]*tar.Header, string, []string) {
	t.Helper()
	dir := t.TempDir()
	untarTo(t, file, dir)
	idx, err := layout.Path(dir).ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["io.containerd.image.name"] != ref {
		t.Fatalf("%s: index %+v, want one image named %s", file, im.Manifests, ref)
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

func untarTo(t *testing.T, file, dir string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(h.Name, "/")))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
