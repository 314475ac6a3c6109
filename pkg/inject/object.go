package inject

import (
	"encoding/json"
	"fmt"

	jsonpatch5 "github.com/evanphx/json-patch/v5"
	"gomodules.xyz/jsonpatch/v2"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// env is what Run knows besides the input: options, Namespace file, ConfigMaps.
type env struct {
	o          Options
	ns         namespace
	configMaps mutate.ConfigMapLookup
}

// fallbackNamespace is the namespace of an object that names none when no Namespace file does
// either, as with kubectl.
const fallbackNamespace = "default"

// outcome is what became of one object.
type outcome struct {
	json    []byte // the object after the patch; the input when nothing changed
	changed bool
	// hasPod is true for a Pod or a workload; only those print a patch.
	hasPod bool
	patch  []byte // JSON patch rooted at the object: "[]" when nothing is added
	// label names the object in warnings: "Deployment/web".
	label    string
	warnings []string
}

// mutateObject mutates the Pod (template) of one object; objects without one come back unchanged.
func (e env) mutateObject(p position, h header, js []byte) (outcome, error) {
	oc := outcome{json: js}
	path, ok := podPath(h)
	if !ok {
		return oc, nil
	}
	var meta struct {
		Metadata struct {
			Name         string `json:"name"`
			GenerateName string `json:"generateName"`
			Namespace    string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := utiljson.Unmarshal(js, &meta); err != nil {
		return oc, p.invalid(h.Kind+" does not decode", err)
	}
	m := meta.Metadata
	oc.hasPod, oc.patch = true, []byte("[]")
	switch {
	case m.Name != "":
		oc.label = h.Kind + "/" + m.Name
	case m.GenerateName != "":
		oc.label = h.Kind + "/" + m.GenerateName
	default:
		oc.label = fmt.Sprintf("%s (document %s)", h.Kind, p.number())
	}

	site, found, err := podAt(js, path)
	if err != nil {
		what := h.Kind
		if m.Name != "" {
			what += fmt.Sprintf(" %q", m.Name)
		}
		return oc, p.invalid(what+" does not decode", err)
	}
	if !found {
		oc.warnings = append(oc.warnings, fmt.Sprintf("%s%s has no pod template at %s; nothing injected",
			mutate.WarningPrefix, h.Kind, pointer(path)))
		return oc, nil
	}

	// namespace: the object's > the Namespace file's > "default"
	ns := m.Namespace
	switch {
	case ns == "" && e.ns.name != "":
		ns = e.ns.name
	case ns == "":
		ns = fallbackNamespace
	case e.ns.name != "" && e.ns.name != ns:
		oc.warnings = append(oc.warnings, fmt.Sprintf(
			"%snamespace file %s describes namespace %q, but the object is in %q; its annotations apply anyway",
			mutate.WarningPrefix, e.ns.file, e.ns.name, ns))
	}
	res := mutate.Mutate(e.o.Mutate, mutate.Request{
		Namespace:            ns,
		NamespaceAnnotations: e.ns.annotations,
		Pod:                  site.pod,
		ConfigMaps:           e.configMaps,
	})
	oc.warnings = append(oc.warnings, res.Warnings...)
	if len(res.Patch) == 0 {
		return oc, nil
	}

	root := pointer(path)
	ops := make([]jsonpatch.Operation, 0, len(res.Patch)+1)
	if !site.hasMetadata {
		ops = append(ops, jsonpatch.NewOperation("add", root+"/metadata", map[string]any{}))
	}
	for _, op := range res.Patch {
		op.Path = root + op.Path
		ops = append(ops, op)
	}
	if oc.patch, err = json.Marshal(ops); err != nil {
		return oc, fmt.Errorf("%s: document %s: encoding the patch: %w", p.file, p.number(), err)
	}
	patch, err := jsonpatch5.DecodePatch(oc.patch)
	if err == nil {
		oc.json, err = patch.Apply(js)
	}
	if err != nil {
		// Not the user's fault: the patch was built from this very object.
		return oc, fmt.Errorf("%s: document %s: applying the patch: %w", p.file, p.number(), err)
	}
	oc.changed = true
	return oc, nil
}
