package inject

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// source is one input (a file or stdin) and its documents, in the order read.
type source struct {
	name string
	docs []document
}

// manifestExtensions are the files a directory contributes, as with kubectl apply -f DIR.
var manifestExtensions = []string{".yaml", ".yml", ".json"}

// readInputs reads every input of o.Filenames in order (stdin when there are none), each within
// MaxFileBytes and all together within MaxInputBytes.
func (o Options) readInputs(stdin io.Reader) ([]source, error) {
	names := o.Filenames
	if len(names) == 0 {
		names = []string{Stdin}
	}
	files, err := expandFilenames(names, o.Recursive)
	if err != nil {
		return nil, err
	}
	left := int64(MaxInputBytes)
	srcs := make([]source, 0, len(files))
	for _, f := range files {
		limit, what := int64(MaxFileBytes), "per-file"
		if left < limit {
			limit, what = left, "all -f inputs together"
		}
		name, data, err := readInput(f, stdin, o.InputName, limit, what)
		if err != nil {
			return nil, err
		}
		left -= int64(len(data))
		docs, err := readDocuments(name, data)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, source{name: name, docs: docs})
	}
	return srcs, nil
}

func readInput(file string, stdin io.Reader, stdinName string, limit int64, what string) (string, []byte, error) {
	if file == Stdin {
		data, err := readLimited(stdinName, stdin, limit, what)
		return stdinName, data, err
	}
	f, err := os.Open(file)
	if err != nil {
		return file, nil, err // *PathError: names the file
	}
	defer f.Close()
	data, err := readLimited(file, f, limit, what)
	return file, data, err
}

// readFile reads a Namespace or ConfigMaps file within MaxFileBytes; flag names it in errors.
func readFile(flag, file string) ([]byte, error) {
	_, data, err := readInput(file, nil, "", MaxFileBytes, "per-file")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return data, nil
}

// expandFilenames turns -f arguments into the files to read, in order: a file as named, a
// directory as its manifests in lexical order (subdirectories only when recursive), Stdin once.
func expandFilenames(names []string, recursive bool) ([]string, error) {
	var files []string
	stdin := false
	for _, name := range names {
		if name == Stdin {
			if stdin {
				return nil, fmt.Errorf("%w: stdin (-) can be read only once", ErrFilenames)
			}
			stdin = true
			files = append(files, name)
			continue
		}
		info, err := os.Stat(name)
		if err != nil {
			return nil, err // *PathError: names the path
		}
		if !info.IsDir() {
			files = append(files, name)
			continue
		}
		n := len(files)
		err = filepath.WalkDir(name, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && path != name && !recursive:
				return fs.SkipDir
			case !d.IsDir() && isManifest(path):
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(files) == n {
			hint := ""
			if !recursive {
				hint = " (add -R to read its subdirectories)"
			}
			return nil, fmt.Errorf("%w: directory %s holds no %s file%s", ErrNoObjects, name, strings.Join(manifestExtensions, ", "), hint)
		}
	}
	return files, nil
}

func isManifest(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	for _, e := range manifestExtensions {
		if ext == e {
			return true
		}
	}
	return false
}
