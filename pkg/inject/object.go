package inject

import (
	"encoding/json"
	"fmt"
	"strings"

	jsonpatch5 "github.com/evanphx/json-patch/v5"
	"gomodules.xyz/jsonpatch/v2"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// env is what Run knows besides the input: options, selector, Namespaces, ConfigMaps.
type env struct {
	o          Options
	selector   labels.Selector
	ns         namespaces
	configMaps mutate.ConfigMapLookup
	// warnedNamespaces are the unknown namespaces already warned about: once each is enough.
	warnedNamespaces map[string]bool
}

// outcome is what became of one object.
type outcome struct {
	json    []byte // the object after the patch; the input when nothing changed
	changed bool
	// hasPod is true for a Pod or a workload; only those print a patch.
	hasPod bool
	ref    objectRef
	patch  []byte // JSON patch rooted at the object: "[]" when nothing is added
	// label names the object on stderr: "deployment/web".
	label string
	// summary says what became of it: "injected (tilt-lib-v2@2.0.1)", "skipped (not a workload)".
	summary  string
	warnings []string
}

// objectRef names an object in -o patch output.
type objectRef struct {
	APIVersion   string `json:"apiVersion"`
	Kind         string `json:"kind"`
	Namespace    string `json:"namespace"`
	Name         string `json:"name"`
	GenerateName string `json:"generateName,omitempty"`
}

// mutateObject mutates the Pod (template) of one object. Objects without one, and Pods the
// workspace selector does not select, come back unchanged with a summary that says why.
func (e env) mutateObject(it item) (outcome, error) {
	m, metaErr := metadata(it.json)
	oc := outcome{json: it.json, label: label(it, m), summary: "skipped (not a workload)"}
	path, ok := podPath(it.h)
	if !ok {
		return oc, nil
	}
	if metaErr != nil {
		return oc, it.p.invalid(it.h.Kind+" does not decode", metaErr)
	}
	ns := e.ns.namespaceOf(m.Namespace)
	oc.hasPod, oc.patch = true, []byte("[]")
	oc.ref = objectRef{APIVersion: it.h.APIVersion, Kind: it.h.Kind, Namespace: ns, Name: m.Name, GenerateName: m.GenerateName}

	site, found, err := podAt(it.json, path)
	if err != nil {
		what := it.h.Kind
		if m.Name != "" {
			what += fmt.Sprintf(" %q", m.Name)
		}
		return oc, it.p.invalid(what+" does not decode", err)
	}
	if !found {
		oc.summary = "skipped (no pod template)"
		oc.warnings = append(oc.warnings, warning(ReasonNoPodTemplate,
			"%s has no pod template at %s; nothing injected", it.h.Kind, pointer(path)))
		return oc, nil
	}
	if !e.selector.Matches(labels.Set(site.pod.Labels)) {
		oc.summary = fmt.Sprintf("skipped (not a workspace (selector %s))", e.selector)
		return oc, nil
	}

	nsInfo, known := e.ns.byName[ns]
	if !known && len(e.ns.byName) > 0 && !e.warnedNamespaces[ns] {
		e.warnedNamespaces[ns] = true
		oc.warnings = append(oc.warnings, warning(ReasonNamespaceUnknown,
			"namespace %q is not among the Namespaces given (--namespace-file, -f); its annotations are taken as none", ns))
	}
	res := mutate.Mutate(e.o.Mutate, mutate.Request{
		Namespace:            ns,
		NamespaceAnnotations: nsInfo.annotations,
		Pod:                  site.pod,
		ConfigMaps:           e.configMaps,
	})
	oc.warnings = append(oc.warnings, res.Warnings...)
	oc.summary = summary(res)
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
		return oc, fmt.Errorf("%s: document %s: encoding the patch: %w", it.p.file, it.p.number(), err)
	}
	patch, err := jsonpatch5.DecodePatch(oc.patch)
	if err == nil {
		oc.json, err = patch.Apply(it.json)
	}
	if err != nil {
		// Not the user's fault: the patch was built from this very object.
		return oc, fmt.Errorf("%s: document %s: applying the patch: %w", it.p.file, it.p.number(), err)
	}
	oc.changed = true
	return oc, nil
}

// label names an object as kubectl does, "deployment/web"; by its position when it has no name.
func label(it item, m objectMeta) string {
	kind := strings.ToLower(it.h.Kind)
	switch {
	case m.Name != "":
		return kind + "/" + m.Name
	case m.GenerateName != "":
		return kind + "/" + m.GenerateName
	}
	return fmt.Sprintf("%s (%s document %s)", kind, it.p.file, it.p.number())
}

// summary renders what Mutate did: the ConfigMaps newly mounted, with their versions when known,
// or the reason nothing was.
func summary(res mutate.Result) string {
	if res.Outcome != mutate.OutcomeInjected {
		return fmt.Sprintf("skipped (%s)", res.Reason)
	}
	parts := make([]string, 0, len(res.Injected))
	for _, in := range res.Injected {
		p := in.ConfigMap
		if in.Version != "" {
			p += "@" + in.Version
		}
		parts = append(parts, p)
	}
	return fmt.Sprintf("injected (%s)%s", strings.Join(parts, ", "), envboxSummary[res.Envbox])
}

// envboxSummary tells what became of an envbox container's CODER_MOUNTS (nothing when the Pod
// has none, or lists the components already).
var envboxSummary = map[mutate.EnvboxOutcome]string{
	mutate.EnvboxAdded:     ", envbox CODER_MOUNTS extended",
	mutate.EnvboxUntouched: ", envbox CODER_MOUNTS untouched",
}
