package inject

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	yamlv3 "go.yaml.in/yaml/v3"
)

// Bounds on what Run reads, so that no input can make it take seconds or gigabytes. Documented in
// doc.go; each has a test at the bound.
const (
	// MaxFileBytes caps one file: each -f file, stdin, the Namespace file and the ConfigMaps file.
	MaxFileBytes = 16 << 20
	// MaxInputBytes caps all -f inputs together.
	MaxInputBytes = 32 << 20
	// MaxDocumentBytes caps one document as JSON, YAML aliases expanded: the API server refuses
	// request bodies above 3 MiB, so a bigger object could never be applied anyway.
	MaxDocumentBytes = 3 << 20
)

var (
	// ErrTooLarge is wrapped by the errors about a file, the input or a document above its bound.
	ErrTooLarge = errors.New("too large")
	// ErrAliasExpansion is wrapped by the error about a YAML document whose aliases repeat more
	// bytes than the document has: an alias bomb, refused before it is expanded.
	ErrAliasExpansion = errors.New("YAML aliases expand too much")
)

// readLimited reads r to the end, failing as soon as it holds more than limit bytes. what names
// the bound in the error ("file", "input").
func readLimited(name string, r io.Reader, limit int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: more than %d bytes (the %s limit)", name, ErrTooLarge, limit, what)
	}
	return data, nil
}

// checkExpansion refuses a YAML document that would expand beyond MaxDocumentBytes, or whose
// aliases would add more bytes than the document itself has, before sigs.k8s.io/yaml expands it:
// the expansion is what costs (a 64 KB string behind 985 aliases is 63 MB of JSON). Legitimate
// anchors, such as a labels map shared by a Deployment and its template, add a few percent.
//
// The sizes come from the parse tree, in which an alias points at its anchor instead of copying
// it, and each node's size is computed once; so the check is linear in the document.
func checkExpansion(p position, raw []byte) error {
	if !bytes.Contains(raw, []byte("*")) {
		return nil // no alias: nothing can expand (the common case costs one scan)
	}
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(raw, &root); err != nil {
		return p.invalid("not valid YAML", err)
	}
	s := sizer{memo: map[*yamlv3.Node]nodeSize{}}
	size, err := s.size(&root)
	switch {
	case err != nil:
		return p.invalid("not valid YAML", err)
	case size.aliased > int64(len(raw)):
		return fmt.Errorf("%s: %w %s: %w: aliases repeat %s of a %d-byte document (at most its own size)",
			p.file, ErrInvalidDocument, p.number(), ErrAliasExpansion, atLeast(size.aliased), len(raw))
	case size.total > MaxDocumentBytes:
		return fmt.Errorf("%s: %w %s: %w: %s as JSON with aliases expanded (limit %d)",
			p.file, ErrInvalidDocument, p.number(), ErrTooLarge, atLeast(size.total), MaxDocumentBytes)
	}
	return nil
}

// sizeCeiling stops the arithmetic long before int64 overflows: nested aliases multiply.
const sizeCeiling = 1 << 40

func atLeast(n int64) string {
	if n >= sizeCeiling {
		return fmt.Sprintf("more than %d bytes", int64(sizeCeiling))
	}
	return fmt.Sprintf("%d bytes", n)
}

// nodeSize estimates a node as JSON: total bytes, and how many of them come from aliases.
type nodeSize struct{ total, aliased int64 }

func (a nodeSize) plus(b nodeSize) nodeSize {
	return nodeSize{min(a.total+b.total, sizeCeiling), min(a.aliased+b.aliased, sizeCeiling)}
}

type sizer struct {
	memo map[*yamlv3.Node]nodeSize
	busy map[*yamlv3.Node]bool
}

var errAliasCycle = errors.New("an alias refers to the node that contains it")

func (s *sizer) size(n *yamlv3.Node) (nodeSize, error) {
	if n == nil {
		return nodeSize{}, nil
	}
	if sz, ok := s.memo[n]; ok {
		return sz, nil
	}
	if s.busy == nil {
		s.busy = map[*yamlv3.Node]bool{}
	}
	if s.busy[n] {
		return nodeSize{}, errAliasCycle
	}
	s.busy[n] = true
	defer delete(s.busy, n)

	var sz nodeSize
	switch n.Kind {
	case yamlv3.AliasNode:
		target, err := s.size(n.Alias)
		if err != nil {
			return sz, err
		}
		// Everything an alias stands for is repeated bytes.
		sz = nodeSize{target.total, target.total}
	case yamlv3.ScalarNode:
		sz.total = int64(len(n.Value)) + 2 // quotes
	default: // document, mapping, sequence: the children plus a separator each
		sz.total = 2
		for _, c := range n.Content {
			csz, err := s.size(c)
			if err != nil {
				return sz, err
			}
			sz = sz.plus(csz).plus(nodeSize{total: 1})
		}
	}
	s.memo[n] = sz
	return sz, nil
}
