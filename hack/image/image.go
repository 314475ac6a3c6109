package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// The one path every image here takes (the webhook's and the e2e node's): files → one layer on an
// empty base → a config → one image per platform → an OCI index named ref → a reproducible tar.

// entry is one file of a layer: a regular file (Data), a symlink (Link) or, with a trailing slash,
// a directory; parent directories are made for every path.
type entry struct {
	Path string // without the leading slash
	Mode int64
	Data []byte
	Link string
}

// platformImage is a one-layer image of files for platform ("os/arch") with config cfg.
func platformImage(platform string, cfg v1.Config, files []entry) (v1.Image, error) {
	osName, arch, ok := strings.Cut(platform, "/")
	if !ok || osName == "" || arch == "" || strings.Contains(arch, "/") {
		return nil, fmt.Errorf("platform %q: want os/arch", platform)
	}
	layerTar, err := layerOf(files)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, MediaType: types.OCILayer})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = osName, arch
	cf.Created = v1.Time{Time: ocitar.Epoch}
	cf.Config = cfg
	return mutate.ConfigFile(img, cf)
}

// writeIndex writes images (platform → image) under one multi-platform index named ref (REPO:TAG)
// as an OCI layout tarball at out, the form `ctr images import`, `docker load`,
// `kind load image-archive` and `crane push` accept.
func writeIndex(out, ref string, images map[string]v1.Image) error {
	_, tag, ok := strings.Cut(ref[strings.LastIndex(ref, "/")+1:], ":")
	if !ok || tag == "" {
		return fmt.Errorf("ref %q: want REPO:TAG", ref)
	}
	platforms := make([]string, 0, len(images))
	for p := range images {
		platforms = append(platforms, p)
	}
	sort.Strings(platforms) // index order, hence its digest, independent of the caller's
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		cf, err := images[p].ConfigFile()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        images[p],
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: cf.OS, Architecture: cf.Architecture}},
		})
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
	// ref.name is the OCI tag; containerd (ctr, kind) and docker name the loaded image from these.
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": tag,
		"io.containerd.image.name":          ref,
	})); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return ocitar.Write(dir, out)
}

// layerOf is a tar of files (and their parent directories), sorted, root-owned, with fixed times.
func layerOf(files []entry) ([]byte, error) {
	have := map[string]bool{}
	for _, f := range files {
		have[f.Path] = true
	}
	all := append([]entry(nil), files...)
	for _, f := range files {
		for d := filepath.Dir(strings.TrimSuffix(f.Path, "/")); d != "."; d = filepath.Dir(d) {
			if !have[d+"/"] {
				have[d+"/"] = true
				all = append(all, entry{Path: d + "/", Mode: 0o755})
			}
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
