package mutate_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// testComponents is a test-only component table: components the product does not have, each one
// row and nothing else. A golden case adds them with `test-components: [<name>]` in its
// options.yaml (testdata/third-component-from-one-row): that everything then works, volumes,
// mounts, labels, record, findings, the invariants, the oracle and the second pass, is the proof
// that a component is one row of the table.
var testComponents = []mutate.Component{
	{Name: "tilt-extras", VersionKey: "extras-version", Flag: "extras", DefaultVersionFlag: "--default-extras-version",
		LogPrefix: "extras", ComponentOptions: mutate.ComponentOptions{Base: "tilt-extras", MountPath: "/apps/extras"}},
}

// TestProductComponents pins the product's table: every field is contract (docs/design.md: the
// volumes, keys, flags, mount paths; the log keys of the admission log).
func TestProductComponents(t *testing.T) {
	want := []mutate.Component{
		{Name: "tilt-lib", VersionKey: "version", Flag: "lib", DefaultVersionFlag: "--default-version",
			ComponentOptions: mutate.ComponentOptions{Base: "tilt-lib", MountPath: "/apps/tilt-lib"}},
		{Name: "tilt-templates", VersionKey: "templates-version", Flag: "templates", DefaultVersionFlag: "--default-templates-version",
			LogPrefix: "templates", ComponentOptions: mutate.ComponentOptions{Base: "tilt-templates", MountPath: "/apps/template"}},
	}
	o := mutate.DefaultOptions()
	if !reflect.DeepEqual(o.Components, want) {
		t.Errorf("DefaultOptions().Components =\n%+v\nwant\n%+v", o.Components, want)
	}
	if got := o.Bases(); !slices.Equal(got, []string{"tilt-lib", "tilt-templates"}) {
		t.Errorf("Bases() = %q", got)
	}
	// Each call is a fresh table: configuring one Options leaves the next DefaultOptions alone.
	lib(&o).Base = "changed"
	if again := mutate.DefaultOptions(); lib(&again).Base != "tilt-lib" {
		t.Error("DefaultOptions shares its table between calls")
	}
	if o.Component("tilt-nothing") != nil {
		t.Error("Component of an unknown name is not nil")
	}
}

func withTestComponents() mutate.Options {
	o := mutate.DefaultOptions()
	o.Components = append(o.Components, testComponents...)
	return o
}

// TestComponentTableValidate: two rows sharing a name, a key or a flag would write one Pod field
// twice; ValidateTable refuses such a table, Validate the settings in its rows.
func TestComponentTableValidate(t *testing.T) {
	if err := withTestComponents().Validate(); err != nil {
		t.Fatalf("product table plus the test-only rows: %v", err)
	}
	if err := mutate.ValidateTable(withTestComponents()); err != nil {
		t.Fatalf("product table plus the test-only rows: %v", err)
	}
	for name, tc := range map[string]struct {
		edit    func(c *mutate.Component)
		mention string
		setting bool // an operator's setting, checked by Validate
	}{
		"same name":            {func(c *mutate.Component) { c.Name = mutate.LibVolume }, `same name "tilt-lib"`, false},
		"same version key":     {func(c *mutate.Component) { c.VersionKey = mutate.KeyTemplatesVersion }, `same key "templates-version"`, false},
		"a key of the webhook": {func(c *mutate.Component) { c.VersionKey = mutate.KeyStatus }, `same key "status"`, false},
		"another's requested key": {func(c *mutate.Component) { c.VersionKey = mutate.RequestedKeyPrefix + mutate.KeyVersion },
			`same key "requested-version"`, false},
		"named containers":  {func(c *mutate.Component) { c.Name = "containers" }, `same name "containers"`, false},
		"same flag":         {func(c *mutate.Component) { c.Flag = "lib" }, `same flag "lib"`, false},
		"same default flag": {func(c *mutate.Component) { c.DefaultVersionFlag = "--default-version" }, `same default version flag`, false},
		"same log prefix":   {func(c *mutate.Component) { c.LogPrefix = "" }, `same log prefix ""`, false},
		"name not a label":  {func(c *mutate.Component) { c.Name = "Tilt_Extras" }, `component "Tilt_Extras": the name must be a DNS-1123 label`, false},
		"key not a label":   {func(c *mutate.Component) { c.VersionKey = "extras/version" }, `version key "extras/version"`, false},
		"no flag":           {func(c *mutate.Component) { c.Flag = "" }, `Flag and DefaultVersionFlag must be set`, false},
		"base of another":   {func(c *mutate.Component) { c.Base = "tilt-lib-extras" }, `"tilt-lib" and "tilt-lib-extras" overlap`, true},
		"mount path of another": {func(c *mutate.Component) { c.MountPath = "/apps/template" },
			`--extras-mount-path "/apps/template" is also the templates mount path`, true},
	} {
		t.Run(name, func(t *testing.T) {
			o := withTestComponents()
			tc.edit(&o.Components[len(o.Components)-1])
			// The rows are code: their own checks are ValidateTable's (a test), the operator's
			// settings in them (base, mount path) Validate's.
			err := mutate.ValidateTable(o)
			if tc.setting {
				err = o.Validate()
			}
			if !errors.Is(err, mutate.ErrInvalidOptions) || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("got %v; want an ErrInvalidOptions naming %q", err, tc.mention)
			}
		})
	}
	o := mutate.DefaultOptions()
	o.Components = nil
	if err := mutate.ValidateTable(o); err == nil || !strings.Contains(err.Error(), "component table is empty") {
		t.Errorf("empty table: ValidateTable() = %v", err)
	}
}

// TestRecordJSON: the record is written in table order, read back strictly, and is the one type
// the harness and the CLI tests read it with.
func TestRecordJSON(t *testing.T) {
	rec := mutate.Record{
		Components: []mutate.RecordEntry{
			{Component: "tilt-lib", RecordComponent: mutate.RecordComponent{ConfigMap: "tilt-lib-v2", Version: "2.0.1", Source: mutate.SourceNamespace}},
			{Component: "tilt-extras", RecordComponent: mutate.RecordComponent{ConfigMap: "tilt-extras", Source: mutate.SourceDefault}},
		},
		Containers: []string{"dev", "<tools>"},
	}
	// MarshalJSON itself, as the webhook calls it: json.Marshal would re-escape its output.
	b, err := rec.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"tilt-lib":{"configMap":"tilt-lib-v2","version":"2.0.1","source":"namespace"},` +
		`"tilt-extras":{"configMap":"tilt-extras","version":"","source":"default"},"containers":["dev","\u003ctools\u003e"]}`
	if string(b) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", b, want)
	}
	var back mutate.Record
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, rec) {
		t.Errorf("Unmarshal = %+v, %v; want %+v", back, err, rec)
	}
	if c := back.Component("tilt-extras"); c == nil || c.ConfigMap != "tilt-extras" {
		t.Errorf("Component(tilt-extras) = %+v", c)
	}
	if back.Component(mutate.TemplatesVolume) != nil {
		t.Error("Component of a component not recorded is not nil")
	}
	// Byte for byte what encoding/json writes for the same fields, whatever the strings hold.
	type asStruct struct {
		Lib struct {
			ConfigMap string `json:"configMap"`
			Version   string `json:"version"`
			Source    string `json:"source"`
		} `json:"tilt-lib"`
		Containers []string `json:"containers"`
	}
	for _, v := range []string{"", "2.0.1", `say "hi"`, `back\slash`, "<b>&amp;</b>", "tab\tnew\nline\x01", "ünï", "\u2028", "bad \xff utf-8"} {
		var ref asStruct
		ref.Lib.ConfigMap, ref.Lib.Version, ref.Lib.Source, ref.Containers = "tilt-lib", v, "pod", []string{v, "dev"}
		want, _ := json.Marshal(ref)
		got, _ := (mutate.Record{Components: []mutate.RecordEntry{{Component: "tilt-lib",
			RecordComponent: mutate.RecordComponent{ConfigMap: "tilt-lib", Version: v, Source: "pod"}}}, Containers: []string{v, "dev"}}).MarshalJSON()
		if string(got) != string(want) {
			t.Errorf("%q: Marshal =\n%s\nencoding/json writes\n%s", v, got, want)
		}
	}
	for name, bad := range map[string]string{
		"not an object":   `["tilt-lib"]`,
		"unknown field":   `{"tilt-lib":{"configMap":"tilt-lib","version":"","source":"pod","extra":1},"containers":[]}`,
		"recorded twice":  `{"tilt-lib":{"configMap":"a"},"tilt-lib":{"configMap":"b"},"containers":[]}`,
		"containers type": `{"containers":"dev"}`,
	} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s: Unmarshal(%s) accepted it", name, bad)
		}
	}
}

// TestProductComponentTable: the table the binary carries passes the row checks the binary does not
// carry (see validateTable).
func TestProductComponentTable(t *testing.T) {
	if err := mutate.ValidateTable(mutate.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
}
