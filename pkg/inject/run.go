package inject

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// Run reads Kubernetes objects from o.Filenames (or from in when there are none), mutates every
// selected Pod and pod template the way the admission webhook would, and writes the result to
// out: the documents as YAML (Output "yaml"), or one named JSON patch per Pod or workload per line
// (Output "patch"). errOut gets the warnings, as "Warning: " lines ending with their reason, then
// one summary line per object. Nothing is written when Run returns an error.
func Run(o Options, in io.Reader, out, errOut io.Writer) error {
	o = o.withDefaults()
	sel, err := o.validate()
	if err != nil {
		return err
	}
	srcs, err := o.readInputs(in)
	if err != nil {
		return err
	}
	docs, err := parseAll(srcs)
	if err != nil {
		return err
	}
	if len(docs) == 0 {
		names := make([]string, len(srcs))
		for i, s := range srcs {
			names[i] = s.name
		}
		return fmt.Errorf("%s: %w", strings.Join(names, ", "), ErrNoObjects)
	}
	e, warnings, err := o.newEnv(sel, docs)
	if err != nil {
		return err
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
	if err := write(&stdout, o.Output, results); err != nil {
		return err
	}
	writeStderr(&stderr, warnings, results)
	if _, err := out.Write(stdout.Bytes()); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if _, err := errOut.Write(stderr.Bytes()); err != nil {
		return fmt.Errorf("writing warnings: %w", err)
	}
	return nil
}

// newEnv gathers what the cluster would know when the input is applied: its Namespaces and
// ConfigMaps, unless files say otherwise (see Options). The warnings concern no single object.
func (o Options) newEnv(sel selectors, docs []parsed) (env, []string, error) {
	e := env{o: o, selector: sel.workspaces, configMaps: mutate.AllExist{}, warnedNamespaces: map[string]bool{}}
	var warnings []string
	var err error
	if e.ns, warnings, err = loadNamespaces(o.NamespaceFile, docs); err != nil {
		return e, nil, err
	}
	if o.ConfigMapsFile != "" {
		cms, err := loadConfigMaps(o.ConfigMapsFile, o.VersionLabel, sel.published)
		if err != nil {
			return e, nil, err
		}
		e.configMaps = cms
		return e, append(warnings, missingTargets(o.Mutate, cms, mutate.AmongMarked("any namespace of "+o.ConfigMapsFile, o.ConfigMapSelector))...), nil
	}
	cms, found, err := collectConfigMaps(docs, e.ns, o, sel.published)
	if err != nil {
		return e, nil, err
	}
	if found {
		e.configMaps = cms
		warnings = append(warnings, missingTargets(o.Mutate, cms.configMaps, mutate.AmongMarked("any namespace of the input", o.ConfigMapSelector))...)
	}
	return e, warnings, nil
}

// result is what became of one document: one object, or the items of a List.
type result struct {
	doc     document
	file    string
	json    []byte // the document after mutation
	changed bool
	objects []outcome
}

func (e env) mutateDocument(d parsed) (result, error) {
	r := result{doc: d.doc, file: d.file, json: d.doc.json}
	items := make([]json.RawMessage, len(d.items))
	for i, it := range d.items {
		oc, err := e.mutateObject(it)
		if err != nil {
			return r, err
		}
		items[i] = oc.json
		r.changed = r.changed || oc.changed
		r.objects = append(r.objects, oc)
	}
	switch {
	case !r.changed:
	case !d.list:
		r.json = items[0]
	default:
		var err error
		if r.json, err = withItems(d.doc.json, items); err != nil {
			return r, fmt.Errorf("%s: document %d: %w", d.file, d.doc.index, err)
		}
	}
	return r, nil
}
