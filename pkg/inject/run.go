package inject

import (
	"bytes"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Run reads Kubernetes objects from in, mutates every Pod and pod template the way the admission
// webhook would, and writes the result to out: the documents as YAML (Output "yaml"), or one JSON
// patch per Pod or workload per line (Output "patch"). Warnings go to errOut as "Warning: " lines,
// naming the object when the input holds several Pods or workloads. Nothing is written when Run
// returns an error.
func Run(o Options, in io.Reader, out, errOut io.Writer) error {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return err
	}
	e := env{o: o, configMaps: mutate.AllExist{}}
	if o.NamespaceFile != "" {
		ns, err := loadNamespace(o.NamespaceFile)
		if err != nil {
			return err
		}
		e.ns = ns
	}
	if o.ConfigMapsFile != "" {
		cms, err := loadConfigMaps(o.ConfigMapsFile, o.VersionLabel)
		if err != nil {
			return err
		}
		e.configMaps = cms
	}
	docs, err := readDocuments(o.InputName, in)
	if err != nil {
		return err
	}
	if len(docs) == 0 {
		return fmt.Errorf("%s: %w", o.InputName, ErrNoObjects)
	}
	results := make([]result, 0, len(docs))
	for _, d := range docs {
		r, err := e.mutateDocument(d)
		if err != nil {
			return err
		}
		results = append(results, r)
	}

	var stdout, stderr bytes.Buffer
	if err := write(&stdout, o, results); err != nil {
		return err
	}
	writeWarnings(&stderr, results)
	if _, err := out.Write(stdout.Bytes()); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if _, err := errOut.Write(stderr.Bytes()); err != nil {
		return fmt.Errorf("writing warnings: %w", err)
	}
	return nil
}

// result is what became of one document: one object, or the items of a List.
type result struct {
	doc     document
	json    []byte // the document after mutation
	changed bool
	objects []outcome
}

func (e env) mutateDocument(d document) (result, error) {
	r := result{doc: d, json: d.json}
	p := position{file: e.o.InputName, doc: d.index}
	h, err := parseHeader(p, d.json)
	if err != nil {
		return r, err
	}
	items, isList := listItems(h, d.json)
	if !isList {
		oc, err := e.mutateObject(p, h, d.json)
		r.json, r.changed, r.objects = oc.json, oc.changed, []outcome{oc}
		return r, err
	}
	for i, js := range items {
		ip := p
		ip.item = i + 1
		ih, err := parseHeader(ip, js)
		if err != nil {
			return r, err
		}
		oc, err := e.mutateObject(ip, ih, js)
		if err != nil {
			return r, err
		}
		items[i] = oc.json
		r.changed = r.changed || oc.changed
		r.objects = append(r.objects, oc)
	}
	if r.changed {
		if r.json, err = withItems(d.json, items); err != nil {
			return r, fmt.Errorf("%s: document %s: %w", p.file, p.number(), err)
		}
	}
	return r, nil
}

// write renders the results in the output format.
func write(w *bytes.Buffer, o Options, results []result) error {
	for i, r := range results {
		if o.Output == OutputPatch {
			for _, oc := range r.objects {
				if oc.hasPod {
					w.Write(oc.patch)
					w.WriteByte('\n')
				}
			}
			continue
		}
		if i > 0 {
			w.WriteString("---\n")
		}
		b := r.doc.raw
		if r.changed || !r.doc.yaml {
			y, err := yaml.JSONToYAML(r.json)
			if err != nil {
				return fmt.Errorf("%s: document %d: rendering YAML: %w", o.InputName, r.doc.index, err)
			}
			b = y
		}
		w.Write(b)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			w.WriteByte('\n')
		}
	}
	return nil
}

// writeWarnings prints every warning as kubectl does, prefixed with the object when there are
// several to tell apart.
func writeWarnings(w *bytes.Buffer, results []result) {
	pods := 0
	for _, r := range results {
		for _, oc := range r.objects {
			if oc.hasPod {
				pods++
			}
		}
	}
	for _, r := range results {
		for _, oc := range r.objects {
			for _, warning := range oc.warnings {
				w.WriteString("Warning: ")
				if pods > 1 {
					w.WriteString(oc.label + ": ")
				}
				w.WriteString(warning)
				w.WriteByte('\n')
			}
		}
	}
}
