package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	tlconfig "github.com/platform-tools/tilt-lib-injector/pkg/config"
)

// Help and version go to stdout with exit 0, so `webhook --help | grep` works.
func TestTopLevelHelpListsTheCommands(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, out, errOut := runCmd(t, "", args...)
		if code != 0 || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
		for _, c := range []string{"serve", "inject", "version", "help"} {
			if !strings.Contains(out, "\n  "+c+" ") {
				t.Errorf("%v: command %s not listed:\n%s", args, c, out)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		if code, out, errOut := runCmd(t, "", args...); code != 0 || out != version+"\n" || errOut != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// Each command's help lists exactly the configuration flags it reads: inject the shared section,
// serve everything; pkg/config decides which is which.
func TestCommandHelpListsOnlyItsOwnFlags(t *testing.T) {
	shared := pflag.NewFlagSet("shared", pflag.ContinueOnError)
	c := tlconfig.Default()
	c.AddSharedFlags(shared)
	for _, args := range [][]string{{"serve", "--help"}, {"serve", "-h"}, {"help", "serve"}, {"inject", "--help"}, {"inject", "-h"}, {"help", "inject"}} {
		name := args[0]
		if name == "help" {
			name = args[1]
		}
		code, out, errOut := runCmd(t, "", args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "Usage: webhook "+name+" ") {
			t.Errorf("%v: exit %d, stderr %q, stdout:\n%s", args, code, errOut, out)
			continue
		}
		for key := range tlconfig.Keys() {
			want := name == "serve" || shared.Lookup(key) != nil
			got := strings.Contains(out, "--"+key+" ") || strings.Contains(out, "--"+key+"[") // bool: --x[=true|false]
			if got != want {
				t.Errorf("%v: lists --%s: %v, want %v", args, key, got, want)
			}
		}
		if name == "inject" && !strings.Contains(out, "-f, --filename") {
			t.Errorf("%v: inject's own flags missing:\n%s", args, out)
		}
	}
}

// --service-name and --service-namespace matter only to the self-managed certificates (their
// SANs, the Secret's namespace); their help says so, so nobody passes them in files mode thinking
// they do something.
func TestServiceFlagsSaySelfMode(t *testing.T) {
	_, out, _ := runCmd(t, "", "serve", "--help")
	for _, flag := range []string{"--service-name ", "--service-namespace "} {
		i := strings.Index(out, flag)
		if i < 0 {
			t.Fatalf("%s not in serve --help", flag)
		}
		if line := out[i:][:strings.IndexByte(out[i:], '\n')]; !strings.Contains(line, "(self mode") {
			t.Errorf("%s help: %q", flag, line)
		}
	}
}

// A serve-only variable (TILTLIB_PORT=abc in a shared shell profile) does not break inject, and
// inject refuses serve's flags; serve still checks both.
func TestInjectIgnoresServeOnlySettings(t *testing.T) {
	t.Setenv("TILTLIB_PORT", "abc")
	t.Setenv("TILTLIB_LOG_LEVEL", "loud")
	if code, out, errOut := runCmd(t, pod, "inject", "-f", "-"); code != 0 || !strings.Contains(out, "name: tilt-lib") {
		t.Fatalf("inject with TILTLIB_PORT=abc: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, pod, "inject", "-f", "-", "--port", "9443"); code == 0 || errOut != "webhook inject: unknown flag: --port\n" {
		t.Errorf("inject --port: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, "", "serve"); code == 0 || !strings.Contains(errOut, "TILTLIB_PORT") {
		t.Errorf("serve with TILTLIB_PORT=abc: exit %d, stderr %q", code, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string // the whole of stderr
	}{
		{[]string{"frobnicate"}, "webhook: unknown command \"frobnicate\" (commands: serve, inject, explain, distribute, version, help; see webhook --help)\n"},
		{[]string{"version", "extra"}, "webhook version: unexpected argument \"extra\"\n"},
		{[]string{"serve", "extra"}, "webhook serve: unexpected argument \"extra\" (serve takes flags only)\n"},
		{[]string{"help", "frobnicate"}, "webhook help: unknown command \"frobnicate\" (commands: serve, inject, explain, distribute, version, help)\n"},
		{[]string{"serve", "--no-such-flag"}, "webhook serve: unknown flag: --no-such-flag\n"},
		// Every problem of a configuration, one line each, each naming the command.
		{[]string{"serve", "--port", "0", "--tls-min-version", "1.0"}, "webhook serve: invalid configuration: --port 0: must be 1-65535\n" +
			"webhook serve: invalid configuration: --tls-min-version \"1.0\": must be 1.2 or 1.3\n"},
	}
	for _, c := range cases {
		if code, out, errOut := runCmd(t, "", c.args...); code != 1 || out != "" || errOut != c.want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 1 and %q", c.args, code, out, errOut, c.want)
		}
	}
}

// The --namespace-file help says what the file does, and it does that: an object is resolved with
// the annotations of its own Namespace, and an object naming none is in the file's only Namespace.
func TestNamespaceFileHelpSaysWhatItDoes(t *testing.T) {
	_, out, _ := runCmd(t, "", "inject", "--help")
	i := strings.Index(out, "--namespace-file ")
	if i < 0 {
		t.Fatal("--namespace-file not in inject --help")
	}
	line := out[i:][:strings.IndexByte(out[i:], '\n')]
	for _, want := range []string{"annotations of the Namespace it is in", "in the file's Namespace if it holds exactly one", "wins over Namespaces in -f"} {
		if !strings.Contains(line, want) {
			t.Errorf("--namespace-file help lacks %q: %q", want, line)
		}
	}
	ns := write(t, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-b\n  annotations: {tilt-lib.platform/version: v2}\n")
	// The same Pod, without its namespace: it is in team-b, the file's only Namespace.
	noNS := strings.Replace(pod, "  namespace: team-a\n", "", 1)
	code, got, errOut := runCmd(t, noNS, "inject", "-f", "-", "--namespace-file", ns)
	if code != 0 || !strings.Contains(got, "name: tilt-lib-v2") {
		t.Errorf("a Pod naming no namespace with a one-Namespace file pinned to v2: exit %d, stderr %q\n%s", code, errOut, got)
	}
}
