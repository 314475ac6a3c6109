package harness

import (
	"regexp"
	"strings"
)

// grafanaVar matches $name and ${name}: the two spellings of a Grafana template variable.
var grafanaVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// SubstituteVars replaces the Grafana variables of expr that vars names by their values, as
// Grafana does before it sends a query. Variables vars does not name are left as they are, so
// that Prometheus rejects the query and the caller sees which one was unexpected.
func SubstituteVars(expr string, vars map[string]string) string {
	return grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		name := strings.Trim(m, "${}")
		if v, ok := vars[name]; ok {
			return v
		}
		return m
	})
}

// Vars returns the names of the Grafana variables expr still holds, in order ($1 and the like,
// label_replace's capture groups, are not variables).
func Vars(expr string) []string {
	var out []string
	for _, m := range grafanaVar.FindAllString(expr, -1) {
		out = append(out, strings.Trim(m, "${}"))
	}
	return out
}
