package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Output is the JSON form of one run of `webhook explain` (docs/design.md): every subject's
// report and the run's exit code.
type Output struct {
	SchemaVersion int      `json:"schemaVersion"`
	ExitCode      int      `json:"exitCode"`
	Reports       []Report `json:"reports"`
}

// WriteJSON writes the reports as one Output object.
func WriteJSON(w io.Writer, reports []Report, strict bool) error {
	if reports == nil {
		reports = []Report{}
	}
	b, err := json.MarshalIndent(Output{SchemaVersion: SchemaVersion, ExitCode: ExitCode(reports, strict), Reports: reports}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the report: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable writes each report as a LAYER RESULT DETAIL table, hints on the line below their
// row.
func WriteTable(w io.Writer, reports []Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "%s\n", title(r.Subject))
		fmt.Fprintln(tw, "LAYER\tRESULT\tDETAIL")
		for _, c := range r.Checks {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Layer, c.Result.Mark(), oneLine(c.Detail))
			if c.Hint != "" {
				fmt.Fprintf(tw, "\t\t→ %s\n", oneLine(c.Hint))
			}
		}
	}
	return tw.Flush()
}

func title(s Subject) string {
	switch s.Kind {
	case "namespace":
		return "namespace/" + s.Namespace
	case "new":
		return "a new workspace Pod in " + s.Namespace
	}
	name := s.Name
	if name == "" {
		name = "(unnamed)"
	}
	return s.Kind + "/" + name + " in " + s.Namespace
}

// oneLine keeps a row on its line: a value from a Pod may hold newlines or tabs.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\t", " ", "\r", " ").Replace(s)
}
