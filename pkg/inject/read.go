package inject

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// document is one document of a stream.
type document struct {
	index int    // 1-based position in the stream, for messages
	raw   []byte // the bytes it was read from
	yaml  bool   // raw is YAML: written back as is when nothing changed
	json  []byte // the document as JSON
}

// readDocuments splits a stream into documents: a stream of JSON values when its first non-blank
// byte is '{', else a YAML stream separated by "---" lines. Blank and comment-only YAML documents
// are dropped (they hold no object) but still count in the positions of the following ones. Every
// document is checked against MaxDocumentBytes, and a YAML one against alias bombs before it is
// expanded.
func readDocuments(file string, data []byte) ([]document, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) {
		return readJSON(file, data)
	}
	var docs []document
	yr := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 1; ; i++ {
		raw, err := yr.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		p := position{file: file, doc: i}
		if err != nil {
			return nil, p.invalid("not valid YAML", err)
		}
		if err := checkExpansion(p, raw); err != nil {
			return nil, err
		}
		js, err := yaml.YAMLToJSONStrict(raw)
		if err != nil {
			return nil, p.invalid("not valid YAML", err)
		}
		if err := p.checkSize(js); err != nil {
			return nil, err
		}
		if !isNull(js) {
			docs = append(docs, document{index: i, raw: raw, yaml: true, json: js})
		}
	}
}

func readJSON(file string, data []byte) ([]document, error) {
	var docs []document
	dec := json.NewDecoder(bytes.NewReader(data))
	for i := 1; ; i++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		p := position{file: file, doc: i}
		if err != nil {
			return nil, p.invalid("not valid JSON", err)
		}
		if err := p.checkSize(raw); err != nil {
			return nil, err
		}
		if !isNull(raw) {
			docs = append(docs, document{index: i, raw: raw, json: raw})
		}
	}
}

// checkSize enforces MaxDocumentBytes on a document as JSON.
func (p position) checkSize(js []byte) error {
	if len(js) > MaxDocumentBytes {
		return fmt.Errorf("%s: %w %s: %w: %d bytes as JSON (limit %d)", p.file, ErrInvalidDocument, p.number(), ErrTooLarge, len(js), MaxDocumentBytes)
	}
	return nil
}

func isNull(js []byte) bool { return bytes.Equal(bytes.TrimSpace(js), []byte("null")) }

// position locates a document, or an item of a List document, for error messages.
type position struct {
	file string
	doc  int // 1-based
	item int // 1-based index in a List; 0 when not in a List
}

// number renders the position after the word "document": "2", or "2 (List item 3)".
func (p position) number() string {
	if p.item > 0 {
		return fmt.Sprintf("%d (List item %d)", p.doc, p.item)
	}
	return fmt.Sprint(p.doc)
}

// invalid returns an error wrapping ErrInvalidDocument and, when not nil, cause:
// "pod.yaml: invalid document 2: not valid YAML: <cause>".
func (p position) invalid(msg string, cause error) error {
	if cause == nil {
		return fmt.Errorf("%s: %w %s: %s", p.file, ErrInvalidDocument, p.number(), msg)
	}
	return fmt.Errorf("%s: %w %s: %s: %w", p.file, ErrInvalidDocument, p.number(), msg, cause)
}

// header is what every Kubernetes object says about itself.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// group returns the API group: "" for the core group ("v1").
func (h header) group() string {
	if i := strings.IndexByte(h.APIVersion, '/'); i >= 0 {
		return h.APIVersion[:i]
	}
	return ""
}

// parseHeader reads the apiVersion and kind of an object; anything without a kind is not a
// Kubernetes object.
func parseHeader(p position, js []byte) (header, error) {
	var h header
	if !bytes.HasPrefix(bytes.TrimSpace(js), []byte("{")) {
		return h, p.invalid("not a Kubernetes object (want a mapping with apiVersion and kind)", nil)
	}
	if err := utiljson.Unmarshal(js, &h); err != nil {
		return h, p.invalid("not a Kubernetes object", err)
	}
	if h.Kind == "" {
		return h, p.invalid("not a Kubernetes object (no kind)", nil)
	}
	return h, nil
}

// listItems returns the items of a List ("List", "PodList", ...: any kind ending in "List" that
// has an items array). ok is false for any other object.
func listItems(h header, js []byte) (items []json.RawMessage, ok bool) {
	if !strings.HasSuffix(h.Kind, "List") {
		return nil, false
	}
	var l struct {
		Items *[]json.RawMessage `json:"items"`
	}
	if err := utiljson.Unmarshal(js, &l); err != nil || l.Items == nil {
		return nil, false
	}
	return *l.Items, true
}

// withItems returns the List js with its items replaced.
func withItems(js []byte, items []json.RawMessage) ([]byte, error) {
	var l map[string]json.RawMessage
	if err := utiljson.Unmarshal(js, &l); err != nil {
		return nil, err
	}
	b, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	l["items"] = b
	return json.Marshal(l)
}

// item is one Kubernetes object of the input: a document, or an item of a List document.
type item struct {
	p    position
	h    header
	json []byte
}

// parsed is one document split into its objects.
type parsed struct {
	doc   document
	file  string
	list  bool
	items []item
}

// parseDocument reads the header of a document and, for a List, of each of its items.
func parseDocument(file string, d document) (parsed, error) {
	r := parsed{doc: d, file: file}
	p := position{file: file, doc: d.index}
	h, err := parseHeader(p, d.json)
	if err != nil {
		return r, err
	}
	js, isList := listItems(h, d.json)
	if !isList {
		r.items = []item{{p, h, d.json}}
		return r, nil
	}
	r.list = true
	for i, j := range js {
		ip := p
		ip.item = i + 1
		ih, err := parseHeader(ip, j)
		if err != nil {
			return r, err
		}
		r.items = append(r.items, item{ip, ih, j})
	}
	return r, nil
}

// parseAll parses the documents of every source, in order.
func parseAll(srcs []source) ([]parsed, error) {
	var all []parsed
	for _, s := range srcs {
		for _, d := range s.docs {
			r, err := parseDocument(s.name, d)
			if err != nil {
				return nil, err
			}
			all = append(all, r)
		}
	}
	return all, nil
}

// readObjects reads a Namespace or ConfigMaps file into its documents and their objects.
func readObjects(flag, file string) ([]parsed, error) {
	data, err := readFile(flag, file)
	if err != nil {
		return nil, err
	}
	docs, err := readDocuments(file, data)
	if err != nil {
		return nil, err
	}
	return parseAll([]source{{name: file, docs: docs}})
}

// objectMeta is the part of metadata inject reads.
type objectMeta struct {
	Name         string            `json:"name"`
	GenerateName string            `json:"generateName"`
	Namespace    string            `json:"namespace"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
}

// metadata decodes an object's metadata.
func metadata(js []byte) (objectMeta, error) {
	var o struct {
		Metadata objectMeta `json:"metadata"`
	}
	err := utiljson.Unmarshal(js, &o)
	return o.Metadata, err
}

// is reports whether the object is of the core (v1) kind.
func (h header) is(kind string) bool { return h.group() == "" && h.Kind == kind }
