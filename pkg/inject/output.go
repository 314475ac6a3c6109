package inject

import (
	"bytes"
	"encoding/json"
	"fmt"

	"sigs.k8s.io/yaml"
)

// write renders the results in the output format, in input order.
func write(w *bytes.Buffer, output string, results []result) error {
	if output == OutputPatch {
		return writePatches(w, results)
	}
	for i, r := range results {
		if i > 0 {
			w.WriteString("---\n")
		}
		b := r.doc.raw
		if r.changed || !r.doc.yaml {
			y, err := yaml.JSONToYAML(r.json)
			if err != nil {
				return fmt.Errorf("%s: document %d: rendering YAML: %w", r.file, r.doc.index, err)
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

// patchLine is one line of -o patch: the object, then its patch.
type patchLine struct {
	objectRef
	Patch json.RawMessage `json:"patch"`
}

func writePatches(w *bytes.Buffer, results []result) error {
	for _, r := range results {
		for _, oc := range r.objects {
			if !oc.hasPod {
				continue
			}
			b, err := json.Marshal(patchLine{oc.ref, oc.patch})
			if err != nil {
				return fmt.Errorf("%s: document %d: encoding the patch: %w", r.file, r.doc.index, err)
			}
			w.Write(b)
			w.WriteByte('\n')
		}
	}
	return nil
}

// writeStderr prints the warnings as kubectl does (the object's warnings prefixed with it when
// there are several objects to tell apart), then one summary line per object, as linkerd inject
// does: "deployment/web injected (tilt-lib-v2@2.0.1)".
func writeStderr(w *bytes.Buffer, global []string, results []result) {
	pods := 0
	for _, r := range results {
		for _, oc := range r.objects {
			if oc.hasPod {
				pods++
			}
		}
	}
	for _, warning := range global {
		fmt.Fprintf(w, "Warning: %s\n", warning)
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
	for _, r := range results {
		for _, oc := range r.objects {
			fmt.Fprintf(w, "%s %s\n", oc.label, oc.summary)
		}
	}
}
