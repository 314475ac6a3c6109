package versions

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
	"github.com/platform-tools/tilt-lib-injector/pkg/rollout"
)

func options() mutate.Options {
	o := mutate.DefaultOptions()
	o.Aliases = map[string]string{"flagged": "v1"}
	return o
}

// TestRefusedDocuments: every refused document of docs/design.md ("The versions document") is
// refused by Build, with a message naming what is wrong.
func TestRefusedDocuments(t *testing.T) {
	rollout := func(name, from, percent string) string {
		return fmt.Sprintf("- name: %s\n  from: %s\n  to: v3\n  percent: %s\n", name, from, percent)
	}
	var many strings.Builder
	for i := range MaxRollouts + 1 {
		fmt.Fprintf(&many, "- name: r%d\n  from: a%d\n  to: v3\n  percent: \"1\"\n", i, i)
	}
	manyAliases := "aliases:\n"
	for i := range MaxRollouts + 1 {
		manyAliases += fmt.Sprintf("  a%d: v2\n", i)
	}
	tooManyAliases := "aliases:\n"
	for i := range MaxAliases + 1 {
		tooManyAliases += fmt.Sprintf("  a%d: v2\n", i)
	}
	cases := []struct{ name, doc, want string }{
		{"percent 3 decimals", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "stable", `"10.005"`), `percent "10.005" must be a decimal from 0 to 100 with at most 2 decimals`},
		{"percent negative", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "stable", `"-1"`), `percent "-1" must be a decimal`},
		{"percent above 100", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "stable", `"101"`), `percent "101" is above 100`},
		{"percent 100.01", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "stable", `"100.01"`), `percent "100.01" is above 100`},
		{"percent a float", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "stable", `10.5`), `percent 10.5 must be a quoted decimal string`},
		{"percent an integer", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "stable", `10`), `percent 10 must be a quoted decimal string`},
		{"percent leading zero", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "stable", `"010"`), `percent "010" must be a decimal`},
		{"percent missing", "aliases: {stable: v2}\nrollouts:\n- {name: r, from: stable, to: v3}\n", `rollouts[0] (r): percent is required`},
		{"unknown field", "aliases: {stable: v2}\nrollout: []\n", `unknown field "rollout"`},
		{"unknown rollout field", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "stable", `"1"`) + "  precent: \"2\"\n", `unknown field "precent"`},
		{"yaml error", "aliases: {stable: v2\n", `yaml`},
		{"from a non-alias", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "v2", `"10"`), `rollouts[0] (r): from "v2" must be an alias`},
		{"two rollouts on one alias", "aliases: {stable: v2}\nrollouts:\n" + rollout("a", "stable", `"10"`) + rollout("b", "stable", `"5"`), `rollouts[1] (b): component tilt-lib through alias "stable" is also moved by rollout "a": two rollouts on one component and alias`},
		{"two rollouts on one component", "aliases: {stable: v2}\nrollouts:\n" + rollout("a", "stable", `"10"`) + "  components: [tilt-templates]\n" + rollout("b", "stable", `"5"`) + "  components: [tilt-templates]\n", `component tilt-templates through alias "stable" is also moved by rollout "a"`},
		{"more than 16 rollouts", manyAliases + "rollouts:\n" + many.String(), `17 rollouts, above the bound of 16 (MaxRollouts)`},
		{"too many aliases", tooManyAliases, `65 aliases, above the bound of 64 (MaxAliases)`},
		{"name too long", "aliases: {stable: v2}\nrollouts:\n" + rollout(strings.Repeat("a", MaxRolloutName+1), "stable", `"1"`), `must be a DNS-1123 label of at most 40 characters (MaxRolloutName)`},
		{"name not a label", "aliases: {stable: v2}\nrollouts:\n" + rollout("Tilt_v3", "stable", `"1"`), `name "Tilt_v3" must be a DNS-1123 label`},
		{"duplicate name", "aliases: {stable: v2, next: v3}\nrollouts:\n" + rollout("r", "stable", `"1"`) + rollout("r", "next", `"1"`), `rollouts[1] (r): name "r" is also rollouts[0]'s`},
		{"to not a version", "aliases: {stable: v2}\nrollouts:\n- {name: r, from: stable, to: V3!, percent: \"1\"}\n", `to "V3!" must be a version`},
		{"unknown component", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "stable", `"1"`) + "  components: [tilt-lbi]\n", `component "tilt-lbi" is not one of tilt-lib, tilt-templates`},
		{"component twice", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "stable", `"1"`) + "  components: [tilt-lib, tilt-lib]\n", `component "tilt-lib" is listed twice`},
		{"bad key", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "stable", `"1"`) + "  key: pod\n", `key "pod" must be "workspace" or "user"`},
		{"salt too long", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "stable", `"1"`) + "  salt: " + strings.Repeat("s", MaxSalt+1) + "\n", `salt is 254 characters, above the bound of 253 (MaxSalt)`},
		{"bad namespace", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "stable", `"1"`) + "  namespaces: [Team_A]\n", `namespaces: "Team_A" is not a namespace name`},
		{"too many namespaces", "aliases: {stable: v2}\nrollouts:\n" + rollout("r", "stable", `"1"`) + "  namespaces: [" + strings.Repeat("a,", MaxNamespaces) + "a]\n", `namespaces: 257 entries, above the bound of 256 (MaxNamespaces)`},
		{"alias named default", "aliases: {default: v2}\n", `aliases: name "default" must be a DNS-1123 label`},
		{"alias to a bad version", "aliases: {stable: V2}\n", `aliases: stable: version "V2" must be a DNS-1123 label`},
		{"too big", "aliases: {stable: v2}\n#" + strings.Repeat("x", MaxDocumentBytes), `above the bound of 65536 bytes (MaxDocumentBytes)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Build([]byte(c.doc), options())
			if err == nil {
				t.Fatalf("accepted: %+v", s)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n  %v\ndoes not say\n  %s", err, c.want)
			}
		})
	}
}

// TestEveryErrorAtOnce: a document breaking several rules gets them all in one error (one Event
// lists them all), not one per edit.
func TestEveryErrorAtOnce(t *testing.T) {
	doc := "aliases: {stable: v2}\nrollouts:\n- {name: A, from: v2, to: v3, percent: \"1\", key: pod}\n"
	_, err := Build([]byte(doc), options())
	for _, want := range []string{`name "A"`, `from "v2" must be an alias`, `key "pod"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %s", err, want)
		}
	}
}

// TestAcceptedDocuments: the example, the bounds themselves, an alias from the flags,
// and the empty document.
func TestAcceptedDocuments(t *testing.T) {
	var exact strings.Builder
	exact.WriteString("aliases:\n")
	for i := range MaxRollouts {
		fmt.Fprintf(&exact, "  a%d: v2\n", i)
	}
	exact.WriteString("rollouts:\n")
	for i := range MaxRollouts {
		fmt.Fprintf(&exact, "- name: r%d\n  from: a%d\n  to: v3\n  percent: \"100\"\n", i, i)
	}
	cases := map[string]string{
		"issue example": `aliases: {stable: v2}
rollouts:
- name: tilt-lib-v3          # DNS label ≤ 40 characters
  from: stable               # must be an alias
  to: v3
  components: [tilt-lib, tilt-templates]
  percent: "10"
  salt: tilt-lib-v3
  key: workspace
  namespaces: [team-a-dev]
`,
		"16 rollouts, percent 100":      exact.String(),
		"from a flag alias, 2 decimals": "rollouts:\n- {name: r, from: flagged, to: v3, percent: \"99.99\", key: user}\n",
		"percent 0 and 0.5": "aliases: {stable: v2, next: v3}\nrollouts:\n- {name: a, from: stable, to: v3, percent: \"0\"}\n" +
			"- {name: b, from: next, to: v4, percent: \"0.5\"}\n",
		"split components": "aliases: {stable: v2}\nrollouts:\n- {name: a, from: stable, to: v3, percent: \"1\", components: [tilt-lib]}\n" +
			"- {name: b, from: stable, to: v3, percent: \"2\", components: [tilt-templates]}\n",
		"name of 40": "aliases: {stable: v2}\nrollouts:\n- {name: " + strings.Repeat("a", MaxRolloutName) + ", from: stable, to: v3, percent: \"1\"}\n",
		"empty":      "",
		"comments":   "# nothing yet\n",
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Build([]byte(doc), options()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPercentBasis: the string becomes hundredths of a percent exactly.
func TestPercentBasis(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "10": 1000, "0.5": 50, "0.05": 5, "9.99": 999, "10.1": 1010, "100": 10000, "100.00": 10000} {
		p, err := ParsePercent(in)
		if err != nil || p.Basis != want {
			t.Errorf("ParsePercent(%q) = %d, %v; want %d", in, p.Basis, err, want)
		}
	}
}

// TestDocumentWinsOverFlags: an alias the document defines replaces the flag's; the others stay.
func TestDocumentWinsOverFlags(t *testing.T) {
	o := options()
	o.Aliases = map[string]string{"stable": "v1", "old": "v0"}
	s, err := Build([]byte("aliases: {stable: v2, next: v3}\n"), o)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"stable": "v2", "old": "v0", "next": "v3"}
	if fmt.Sprint(s.Aliases) != fmt.Sprint(want) {
		t.Errorf("aliases %v, want %v", s.Aliases, want)
	}
	if o.Aliases["stable"] != "v1" {
		t.Error("Build changed the static aliases")
	}
}

// TestRolloutSpec: a parsed rollout gives pkg/rollout its salt (the name by default), its key (the
// workspace by default), its percent in hundredths and its allow-list; the vector then
// lands in bucket 9527 through the document, as through rollout.Bucket.
func TestRolloutSpec(t *testing.T) {
	o := options()
	s, err := Build([]byte(`aliases: {stable: v2}
rollouts:
- {name: tilt-lib-v3, from: stable, to: v3, components: [tilt-lib], percent: "10.5"}
- {name: r2, from: stable, to: v4, components: [tilt-templates], percent: "1", salt: other, key: user, namespaces: [team-a-dev]}
`), o)
	if err != nil {
		t.Fatal(err)
	}
	got := []rollout.Spec{s.Rollouts[0].Spec(), s.Rollouts[1].Spec()}
	want := []rollout.Spec{
		{Salt: "tilt-lib-v3", Key: rollout.KeyWorkspace, Basis: 1050},
		{Salt: "other", Key: rollout.KeyUser, Basis: 100, Namespaces: []string{"team-a-dev"}},
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("specs %+v, want %+v", got, want)
	}
	a := rollout.Assign(got[0], "team-a", "", "coder-", map[string]string{rollout.LabelWorkspaceID: "00000000-0000-0000-0000-000000000001"})
	if a.Bucket != 9527 || a.Arm != rollout.ArmBaseline || a.Threshold != 1050 {
		t.Errorf("the vector through the document: %+v", a)
	}
}
