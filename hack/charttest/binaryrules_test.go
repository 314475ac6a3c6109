package charttest

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/platform-tools/tilt-lib-injector/pkg/config"
)

// chartValue is the chart value that sets a serve flag as it is: its path, and its JSON kind
// (string, number, list: comma-separated in the flag, map: k=v pairs in the flag).
type chartValue struct{ path, kind string }

// flagValues: the serve flags a chart value sets as it is. Every flag a rule of pkg/config reads is
// here or in derivedFlags, or TestChartRefusesWhatTheBinaryRefuses fails.
var flagValues = map[string]chartValue{
	"annotation-prefix": {"annotationPrefix", "string"}, "alias": {"aliases", "map"},
	"default-version": {"defaultVersion", "string"}, "default-templates-version": {"defaultTemplatesVersion", "string"},
	"lib-configmap": {"libConfigMap", "string"}, "templates-configmap": {"templatesConfigMap", "string"},
	"lib-mount-path": {"libMountPath", "string"}, "templates-mount-path": {"templatesMountPath", "string"},
	"containers": {"containers", "list"}, "version-label": {"versionLabel", "string"},
	"envbox":             {"envbox", "string"},
	"configmap-selector": {"configMapSelector", "string"},
	"port":               {"webhook.port", "number"}, "bind-address": {"webhook.bindAddress", "string"},
	"ca-lifetime": {"certs.self.caLifetime", "string"}, "cert-lifetime": {"certs.self.certLifetime", "string"},
	"tls-min-version": {"tlsMinVersion", "string"}, "log-level": {"logLevel", "string"},
	"request-timeout": {"requestTimeout", "string"}, "body-read-timeout": {"bodyReadTimeout", "string"},
	"max-concurrent-reviews":   {"maxConcurrentReviews", "number"},
	"max-body-bytes-in-flight": {"maxBodyBytesInFlight", "number"},
	"events-per-minute":        {"events.perMinute", "number"}, "events-qps": {"events.qps", "number"},
	"events-burst": {"events.burst", "number"}, "max-configmap-series": {"metrics.maxConfigMapSeries", "number"},
}

// derivedFlags: the serve flags the chart computes, never passes as given. The values they come
// from are checked where they are (schema, templates) and TestDerivedFlagsPassTheBinary renders
// the edges of those values into arguments the binary accepts.
var derivedFlags = map[string]string{
	"workspace-selector":        "rendered from workspaceSelector (matchLabels, matchExpressions), whose keys and values the schema checks",
	"metrics-bind-address":      ":<metrics.port>, or 0 when metrics.enabled is false",
	"health-probe-bind-address": ":<healthPort>",
	"cert-mode":                 "self or files, from certs.mode (schema enum)",
	"cert-secret-name":          "certs.secretName, else <fullname>-certs: never empty",
	"webhook-config-name":       "the release's full name",
	"service-name":              "the release's full name",
	"metrics-secure":            "metrics.secure, only with metrics.enabled",
	"versions-configmap":        "<release namespace>/<fullname>-versions: the chart's own ConfigMap, rendered from versions",
}

// setArgs are the helm arguments that give flag the value v through its chart value.
func setArgs(flag, v string) []string {
	cv := flagValues[flag]
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	switch cv.kind {
	case "number":
		if _, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "nNiI") {
			return []string{"--set-json", cv.path + "=" + v}
		}
		return []string{"--set-json", cv.path + "=" + quote(v)} // not a number: the schema's type check
	case "list":
		b, _ := json.Marshal(strings.Split(v, ","))
		return []string{"--set-json", cv.path + "=" + string(b)}
	case "map":
		var args []string
		for _, pair := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(pair, "=")
			args = append(args, "--set-json", cv.path+"."+k+"="+quote(val))
		}
		return args
	}
	return []string{"--set-json", cv.path + "=" + quote(v)}
}

// exampleArgs are the helm arguments of e, or the derived flag that keeps the chart from giving it.
func exampleArgs(e config.Example) (args []string, derived string) {
	for _, f := range slices.Sorted(maps.Keys(e)) {
		if _, ok := derivedFlags[f]; ok {
			return nil, f
		}
		args = append(args, setArgs(f, e[f])...)
	}
	return args, ""
}

// helmSaid is what helm printed, without the command line template's error repeats (which names
// every value given).
func helmSaid(err error) string {
	_, said, ok := strings.Cut(err.Error(), ": exit status ")
	if !ok {
		return err.Error()
	}
	return said
}

// binaryMessages are the problems the binary reports for e, without the prefixes every one carries.
func binaryMessages(t *testing.T, r config.Rule, e config.Example) []string {
	t.Helper()
	c := config.Default()
	fs := pflag.NewFlagSet("example", pflag.ContinueOnError)
	c.AddFlags(fs)
	if err := config.Apply(fs, e.Args(), func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	err := r.Check(c)
	if err == nil {
		t.Fatalf("%s: the binary accepts %v", r.Name, e)
	}
	var msgs []string
	for _, line := range strings.Split(err.Error(), "\n") {
		msgs = append(msgs, strings.TrimPrefix(strings.TrimPrefix(line, config.ErrInvalid.Error()+": "), "invalid options: "))
	}
	return msgs
}

// TestChartRefusesWhatTheBinaryRefuses walks pkg/config.Rules: every value the binary refuses
// at start, set through the chart value that carries it, makes `helm template` fail, and the
// message names that value (helm's schema error its path; the chart's own checks the value's name,
// what was given, and the binary's words). Every flag a rule reads has a chart value or is
// derived. A rule added to pkg/config lands here with its examples.
func TestChartRefusesWhatTheBinaryRefuses(t *testing.T) {
	for _, r := range config.Rules {
		for _, f := range r.Flags {
			_, set := flagValues[f]
			_, derived := derivedFlags[f]
			if set == derived {
				t.Errorf("rule %q reads --%s: it must be in exactly one of flagValues and derivedFlags", r.Name, f)
			}
		}
		for _, e := range r.Refused {
			args, derived := exampleArgs(e)
			if derived != "" {
				continue // the chart cannot give it: TestDerivedFlagsPassTheBinary
			}
			_, err := template(t, args...)
			if err == nil {
				t.Errorf("%s: helm template %v renders; the binary refuses %v at start", r.Name, args, e)
				continue
			}
			msg := helmSaid(err)
			var named bool
			for f := range e {
				p := flagValues[f].path
				named = named || strings.Contains(msg, p) || strings.Contains(msg, "/"+strings.ReplaceAll(p, ".", "/"))
			}
			if !named {
				t.Errorf("%s: %v: the message names none of its values:\n%s", r.Name, e, msg)
			}
			if strings.Contains(msg, "don't meet the specifications of the schema") {
				continue
			}
			// The chart's own check: the value as given, in the binary's words.
			var given bool
			for _, v := range e {
				given = given || strings.Contains(msg, v)
			}
			words := r.Words != "" && strings.Contains(msg, r.Words)
			for _, m := range binaryMessages(t, r, e) {
				words = words || strings.Contains(msg, m)
			}
			if !given || !words {
				t.Errorf("%s: %v: the chart's message lacks the value as given (%v) or the binary's words (%v):\n%s", r.Name, e, given, words, msg)
			}
		}
	}
}

// renderedServe loads the serve arguments of the Deployment rendered with args, as the binary
// does at start (its validation included), and returns the flag set they were parsed into.
func renderedServe(t *testing.T, args ...string) (*pflag.FlagSet, error) {
	t.Helper()
	out, err := template(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := parse(t, out)["Deployment/"+releaseName]
	if !ok {
		t.Fatal("no Deployment rendered")
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	serve, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
	if len(serve) == 0 || serve[0] != "serve" {
		t.Fatalf("container args %q: want serve and its flags", serve)
	}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	_, err = config.LoadServe(fs, serve[1:], func(string) (string, bool) { return "", false })
	return fs, err
}

// TestChartAcceptsWhatTheBinaryAccepts: each accepted example of pkg/config.Rules renders, and
// the Deployment's arguments pass the binary's validation with the flag at the value given.
func TestChartAcceptsWhatTheBinaryAccepts(t *testing.T) {
	for _, r := range config.Rules {
		for _, e := range r.Accepted {
			args, derived := exampleArgs(e)
			if derived != "" {
				continue
			}
			fs, err := renderedServe(t, args...)
			if err != nil {
				t.Errorf("%s: %v rendered into arguments the binary refuses: %v", r.Name, e, err)
				continue
			}
			want := config.Default()
			wfs := pflag.NewFlagSet("want", pflag.ContinueOnError)
			want.AddFlags(wfs)
			if err := config.Apply(wfs, e.Args(), func(string) (string, bool) { return "", false }); err != nil {
				t.Fatal(err)
			}
			for f := range e {
				if got, w := fs.Lookup(f).Value.String(), wfs.Lookup(f).Value.String(); got != w {
					t.Errorf("%s: %v reaches the binary as --%s=%s, want %s", r.Name, e, f, got, w)
				}
			}
		}
	}
}

// TestDerivedFlagsPassTheBinary: the flags the chart computes stay valid at the edges of the
// values they come from, and the structured workspaceSelector refuses what labels.Parse would.
func TestDerivedFlagsPassTheBinary(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"--set", "certs.mode=certManager"},
		{"--set", "certs.mode=existingSecret", "--set", "certs.existingSecret.name=tls", "--set", "certs.existingSecret.caBundle=Y2E="},
		{"--set", "metrics.enabled=false", "--set", "metrics.secure=true"},
		{"--set", "metrics.port=1", "--set", "healthPort=65535"},
		{"--set", "resources.limits.memory=128Gi"}, // a sixteenth would be 8 GiB: capped at the binary's 4 GiB
		{"--set-json", `workspaceSelector={"matchLabels":{"example.com/a":"b"},"matchExpressions":[{"key":"c","operator":"In","values":["d",""]},{"key":"e","operator":"DoesNotExist"}]}`},
		{"--set-json", `workspaceSelector.matchLabels={"` + strings.Repeat("k", 63) + `":"` + strings.Repeat("v", 63) + `"}`},
	} {
		if _, err := renderedServe(t, args...); err != nil {
			t.Errorf("%v: rendered arguments the binary refuses: %v", args, err)
		}
	}
	for _, c := range []struct{ set, path string }{
		{`workspaceSelector.matchLabels={"` + strings.Repeat("k", 64) + `":"v"}`, "/workspaceSelector/matchLabels"},
		{`workspaceSelector.matchLabels={"a":"` + strings.Repeat("v", 64) + `"}`, "/workspaceSelector/matchLabels"},
		{`workspaceSelector.matchExpressions=[{"key":"a..b/c","operator":"Exists"}]`, "/workspaceSelector/matchExpressions/0/key"},
	} {
		if _, err := template(t, "--set-json", c.set); err == nil || !strings.Contains(helmSaid(err), c.path) {
			t.Errorf("%s: %v, want the schema to refuse %s", c.set, err, c.path)
		}
	} // A key prefix over 253 characters: each DNS label is valid, so only the template's count
	// refuses it, in the binary's words.
	long := strings.Repeat(strings.Repeat("p", 63)+".", 3) + strings.Repeat("p", 63) + "/k"
	for _, set := range []string{
		`workspaceSelector.matchLabels={"` + long + `":"v"}`,
		`workspaceSelector.matchExpressions=[{"key":"` + long + `","operator":"Exists"}]`,
	} {
		if _, err := template(t, "--set-json", set); err == nil || !strings.Contains(helmSaid(err), "not a label selector") || !strings.Contains(helmSaid(err), long) {
			t.Errorf("%.60s…: %v, want the chart to refuse the key in the binary's words", set, err)
		}
	}
}
