// Package ocitar writes an OCI image layout directory as one reproducible tar file (sorted entries,
// fixed times and modes), the form `docker load`, `kind load image-archive`, `ctr images import`
// and `crane push` accept. Shared by the webhook image (`make image`) and the e2e node's images.
package ocitar

import (
	"archive/tar"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Epoch is every timestamp in the images and their tar files: the same inputs give the same digest.
var Epoch = time.Unix(0, 0).UTC()

// Write writes the files of dir into the tar file out, in lexical order, with fixed times.
func Write(dir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: Epoch, Format: tar.FormatPAX}
		if d.IsDir() {
			h.Typeflag, h.Mode, h.Name = tar.TypeDir, 0o755, h.Name+"/"
			return tw.WriteHeader(h)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, int64(len(b))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		f.Close()
		return err
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
