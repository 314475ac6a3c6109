package tiltfiletest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.starlark.net/syntax"
	"go.yaml.in/yaml/v3"
)

const (
	repoRoot    = "../.."
	templateKey = "Tiltfile"      // a Tiltfile template: a file of that name, or a ConfigMap data key
	libraryKey  = "tilt_lib.star" // the shared library, likewise
	// apiList is the list a template declares of the names it takes from the library.
	apiList = "TILT_LIB_API"
)

// shipped is a Tiltfile template or a tilt_lib.star the repository ships.
type shipped struct {
	Name string // where it is: its path, with #namespace/name of the ConfigMap holding it
	Src  string
}

// embedsKey finds YAML that may hold a template or library as a data key; only those files are
// decoded, and one that then does not decode is an error, not a skip.
var embedsKey = regexp.MustCompile(`(?m)^\s*["']?(` + regexp.QuoteMeta(templateKey) + `|` + regexp.QuoteMeta(libraryKey) + `)["']?\s*:`)

// discover finds every shipped template and library outside testdata/ (fixtures of other tests) and
// hidden directories, and fails the test when there is not at least one of each.
func discover(t *testing.T) (templates, libraries []shipped) {
	t.Helper()
	err := filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(repoRoot, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(p)
		if d.Name() != templateKey && d.Name() != libraryKey && ext != ".yaml" && ext != ".yml" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch d.Name() {
		case templateKey:
			templates = append(templates, shipped{Name: rel, Src: string(b)})
			return nil
		case libraryKey:
			libraries = append(libraries, shipped{Name: rel, Src: string(b)})
			return nil
		}
		if !embedsKey.Match(b) {
			return nil
		}
		tmpls, libs, err := fromConfigMaps(rel, b)
		templates, libraries = append(templates, tmpls...), append(libraries, libs...)
		return err
	})
	if err != nil {
		t.Fatalf("looking for shipped Tiltfiles: %v", err)
	}
	if len(templates) == 0 || len(libraries) == 0 {
		t.Fatalf("found %d Tiltfile templates and %d %s libraries in the repository; want at least one of each",
			len(templates), len(libraries), libraryKey)
	}
	return templates, libraries
}

// fromConfigMaps returns the templates and libraries the ConfigMaps of a YAML stream hold.
func fromConfigMaps(rel string, b []byte) (templates, libraries []shipped, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
			Data     map[string]string
		}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return templates, libraries, nil
		} else if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", rel, err)
		}
		if doc.Kind != "ConfigMap" {
			continue
		}
		name := rel + "#" + doc.Metadata.Namespace + "/" + doc.Metadata.Name
		if src, ok := doc.Data[templateKey]; ok {
			templates = append(templates, shipped{Name: name, Src: src})
		}
		if src, ok := doc.Data[libraryKey]; ok {
			libraries = append(libraries, shipped{Name: name, Src: src})
		}
	}
}

// templateAPI reads the names a template takes from the library: its top-level
// TILT_LIB_API = ["name", ...], string literals only, at least one.
func templateAPI(src string) ([]string, error) {
	f, err := tiltDialect.Parse(templateKey, src, 0)
	if err != nil {
		return nil, err
	}
	for _, stmt := range f.Stmts {
		assign, ok := stmt.(*syntax.AssignStmt)
		if !ok || assign.Op != syntax.EQ {
			continue
		}
		if id, ok := assign.LHS.(*syntax.Ident); !ok || id.Name != apiList {
			continue
		}
		list, ok := assign.RHS.(*syntax.ListExpr)
		if !ok || len(list.List) == 0 {
			return nil, fmt.Errorf("%s must be a non-empty list of string literals", apiList)
		}
		var names []string
		for _, e := range list.List {
			lit, ok := e.(*syntax.Literal)
			if !ok || lit.Token != syntax.STRING {
				return nil, fmt.Errorf("%s must be a non-empty list of string literals", apiList)
			}
			names = append(names, lit.Value.(string))
		}
		return names, nil
	}
	return nil, fmt.Errorf("no top-level %s = [...]: a template declares the names it takes from %s", apiList, libraryKey)
}
