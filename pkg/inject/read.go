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
// are dropped (they hold no object) but still count in the positions of the following ones.
func readDocuments(file string, r io.Reader) ([]document, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
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
		js, err := yaml.YAMLToJSONStrict(raw)
		if err != nil {
			return nil, p.invalid("not valid YAML", err)
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
		if err != nil {
			return nil, position{file: file, doc: i}.invalid("not valid JSON", err)
		}
		if !isNull(raw) {
			docs = append(docs, document{index: i, raw: raw, json: raw})
		}
	}
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
