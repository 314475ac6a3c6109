package mutate_test

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The module's root, from this package's directory.
const moduleRoot = "../.."

// TestReasonsAreOneClosedDocumentedSet holds the reasons to one closed set: every constant of type
// mutate.Reason declared in the product code (pkg/ and cmd/, tests excluded) is documented in
// docs/design.md, every reason documented there is declared, no constant named Reason* is an
// untyped string, and no declared reason's value appears as a bare string literal outside its
// declaration (a literal passed where a Reason is taken compiles, so only this catches it).
//
// Documented means: a backticked value in the column headed "reason" of a table of design.md.
func TestReasonsAreOneClosedDocumentedSet(t *testing.T) {
	declared, literals := declaredReasons(t)
	documented := documentedReasons(t, filepath.Join(moduleRoot, "docs", "design.md"))
	if len(declared) == 0 || len(documented) == 0 {
		t.Fatalf("found %d declared and %d documented reasons: the scan is broken", len(declared), len(documented))
	}
	for _, v := range sortedKeys(declared) {
		if !documented[v] {
			t.Errorf("reason %q (%s) is not documented in a reason column of docs/design.md", v, declared[v])
		}
	}
	for _, v := range sortedKeys(documented) {
		if _, ok := declared[v]; !ok {
			t.Errorf("docs/design.md documents reason %q, which no mutate.Reason constant declares", v)
		}
	}
	for _, l := range literals {
		if _, ok := declared[l.value]; ok {
			t.Errorf("%s: bare string %q: use the Reason constant", l.pos, l.value)
		}
	}
}

type literal struct{ pos, value string }

// declaredReasons parses every non-test Go file under pkg/ and cmd/ and returns the value of
// every typed Reason constant (with where it is declared), and every string literal outside a
// const declaration. It fails t on a Reason* constant that is an untyped string.
func declaredReasons(t *testing.T) (map[string]string, []literal) {
	t.Helper()
	declared := map[string]string{}
	var literals []literal
	fset := token.NewFileSet()
	for _, dir := range []string{"pkg", "cmd"} {
		err := filepath.WalkDir(filepath.Join(moduleRoot, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			isReason := reasonType(f)
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.GenDecl:
					if n.Tok != token.CONST {
						return true
					}
					for _, spec := range n.Specs {
						vs := spec.(*ast.ValueSpec)
						for i, name := range vs.Names {
							if i >= len(vs.Values) {
								continue
							}
							lit, ok := vs.Values[i].(*ast.BasicLit)
							if !ok || lit.Kind != token.STRING {
								continue // an alias of another constant, or not a string
							}
							v, _ := strconv.Unquote(lit.Value)
							where := fset.Position(name.Pos()).String() + " " + name.Name
							switch {
							case vs.Type != nil && isReason(vs.Type):
								declared[v] = where
							case vs.Type == nil && strings.HasPrefix(name.Name, "Reason"):
								t.Errorf("%s is an untyped string: declare it as a mutate.Reason", where)
							}
						}
					}
					return false // constants of other types may share a value ("none")
				case *ast.BasicLit:
					if n.Kind == token.STRING {
						v, _ := strconv.Unquote(n.Value)
						literals = append(literals, literal{fset.Position(n.Pos()).String(), v})
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return declared, literals
}

// reasonType returns whether a type expression of f names mutate.Reason: Reason inside package
// mutate, <name>.Reason where <name> imports pkg/mutate elsewhere.
func reasonType(f *ast.File) func(ast.Expr) bool {
	if f.Name.Name == "mutate" {
		return func(e ast.Expr) bool { id, ok := e.(*ast.Ident); return ok && id.Name == "Reason" }
	}
	local := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); strings.HasSuffix(p, "/pkg/mutate") {
			local = "mutate"
			if imp.Name != nil {
				local = imp.Name.Name
			}
		}
	}
	return func(e ast.Expr) bool {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Reason" {
			return false
		}
		x, ok := sel.X.(*ast.Ident)
		return ok && local != "" && x.Name == local
	}
}

var backticked = regexp.MustCompile("`([a-z_]+)`")

// documentedReasons returns the backticked values in the "reason" column of every Markdown table
// of file (tables may be indented, as in a list item).
func documentedReasons(t *testing.T, file string) map[string]bool {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	inTable, column := false, -1 // column: the reason column of the table being read, or -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if !inTable { // the header row
			inTable = true
			column = slices.IndexFunc(cells, func(c string) bool { return strings.TrimSpace(c) == "reason" })
			continue
		}
		if column < 0 || column >= len(cells) {
			continue
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[column], -1) {
			out[m[1]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
