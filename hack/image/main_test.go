package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// staticBinary compiles a tiny static program for arch: a real ELF of that machine, so the test can
// tell which binary ended up in which platform's layer.
func staticBinary(t *testing.T, arch string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "webhook")
	cmd := exec.Command("go", "build", "-o", out, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", arch, err, b)
	}
	return out
}

// untar extracts the OCI tarball into a directory, as docker load or crane would read it.
func untar(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
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

// layerFile returns the one file of the image's one layer, with its header.
func layerFile(t *testing.T, rc io.ReadCloser) (*tar.Header, []byte) {
	t.Helper()
	defer rc.Close()
	tr := tar.NewReader(rc)
	h, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("the layer holds more than %s", h.Name)
	}
	return h, b
}

// TestBuild: the tarball is an OCI layout with a two-platform index named by ref; each image has one
// layer holding that platform's binary, runs it as `webhook serve` (entrypoint /webhook, command
// serve) under a non-root numeric user, and carries the version and source labels.
func TestBuild(t *testing.T) {
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	bins := map[string]string{}
	for arch := range machines {
		bins["linux/"+arch] = staticBinary(t, arch)
	}
	out := filepath.Join(t.TempDir(), "dist", "img.oci.tar")
	o := Options{Ref: "registry.example/tilt-lib-injector:1.2.3", Version: "1.2.3", Source: "https://example/src", Binaries: bins}
	if err := Build(out, o); err != nil {
		t.Fatal(err)
	}
	entry, idx, im := namedIndex(t, out, o.Ref)
	if entry.Annotations["org.opencontainers.image.ref.name"] != "1.2.3" {
		t.Fatalf("index.json entry %+v: want ref.name 1.2.3", entry)
	}
	var archs []string
	for _, d := range im.Manifests {
		archs = append(archs, d.Platform.Architecture)
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.OS != "linux" || cf.Architecture != d.Platform.Architecture {
			t.Errorf("%s: config says %s/%s", d.Platform.Architecture, cf.OS, cf.Architecture)
		}
		// The chart's args start with `serve` and replace the command: an entrypoint holding
		// `serve` as well ran `webhook serve serve` on the e2e node.
		if cf.Config.User != "65532:65532" || !slices.Equal(cf.Config.Entrypoint, []string{"/webhook"}) || !slices.Equal(cf.Config.Cmd, []string{"serve"}) {
			t.Errorf("%s: user %q entrypoint %q cmd %q, want /webhook with command serve", cf.Architecture, cf.Config.User, cf.Config.Entrypoint, cf.Config.Cmd)
		}
		if cf.Config.Labels["org.opencontainers.image.version"] != "1.2.3" || cf.Config.Labels["org.opencontainers.image.source"] != "https://example/src" {
			t.Errorf("%s: labels %v", cf.Architecture, cf.Config.Labels)
		}
		layers, err := img.Layers()
		if err != nil || len(layers) != 1 {
			t.Fatalf("%s: %d layers (%v), want 1 on an empty base", cf.Architecture, len(layers), err)
		}
		rc, err := layers[0].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		h, b := layerFile(t, rc)
		want, _ := os.ReadFile(bins["linux/"+cf.Architecture])
		if h.Name != "webhook" || h.Mode&0o111 == 0 || !bytes.Equal(b, want) {
			t.Errorf("%s: layer holds %s mode %o (%d bytes), want that platform's binary, executable", cf.Architecture, h.Name, h.Mode, len(b))
		}
		e, err := elf.NewFile(bytes.NewReader(b))
		if err != nil || e.Machine != machines[cf.Architecture] {
			t.Errorf("%s: layer binary is not an ELF for that machine: %v", cf.Architecture, err)
		}
	}
	slices.Sort(archs)
	if !slices.Equal(archs, []string{"amd64", "arm64"}) {
		t.Errorf("index platforms %v, want amd64 and arm64", archs)
	}
}

// TestBuildReproducible: the same inputs give the same tarball, byte for byte.
func TestBuildReproducible(t *testing.T) {
	bins := map[string]string{"linux/amd64": staticBinary(t, "amd64")}
	o := Options{Ref: "r/x:1", Version: "1", Source: "s", Binaries: bins}
	var outs [2][]byte
	for i := range outs {
		p := filepath.Join(t.TempDir(), "x.tar")
		if err := Build(p, o); err != nil {
			t.Fatal(err)
		}
		outs[i], _ = os.ReadFile(p)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("two builds of the same inputs differ")
	}
}

// TestBuildRefusesBadOptions: a missing tag or binary is a clear error, not an unnamed image.
func TestBuildRefusesBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Ref: "r/x", Version: "1", Binaries: map[string]string{"linux/amd64": "x"}},
		{Ref: "r/x:1", Version: "1"},
		{Ref: "host:5000/x", Version: "1", Binaries: map[string]string{"linux/amd64": "x"}},
	} {
		if err := Build(filepath.Join(t.TempDir(), "x.tar"), o); err == nil {
			t.Errorf("%+v: built", o)
		}
	}
}
