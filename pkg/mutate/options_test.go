package mutate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

func TestDefaultOptionsValid(t *testing.T) {
	o := mutate.DefaultOptions()
	if err := o.Validate(); err != nil {
		t.Fatalf("DefaultOptions().Validate() = %v", err)
	}
	// docs/design.md's table: a change of any of these is a change of the product contract.
	if o.AnnotationPrefix != "tilt-lib.platform/" || lib(&o).Base != "tilt-lib" || tmpl(&o).Base != "tilt-templates" ||
		lib(&o).MountPath != "/apps/tilt-lib" || tmpl(&o).MountPath != "/apps/template" ||
		len(o.Containers) != 1 || o.Containers[0] != "dev" || lib(&o).DefaultVersion != "" || tmpl(&o).DefaultVersion != "" {
		t.Errorf("DefaultOptions() = %+v, want docs/design.md's defaults", o)
	}
}

func TestOptionsValidateAccepts(t *testing.T) {
	for name, edit := range map[string]func(*mutate.Options){
		"custom prefix":    func(o *mutate.Options) { o.AnnotationPrefix = "tilt.example.com/" },
		"aliases":          func(o *mutate.Options) { o.Aliases = map[string]string{"stable": "v2", "old": "default", "none": ""} },
		"default versions": func(o *mutate.Options) { lib(o).DefaultVersion, tmpl(o).DefaultVersion = "v2", "v3" },
		"default version via alias": func(o *mutate.Options) {
			o.Aliases, lib(o).DefaultVersion = map[string]string{"stable": "v2"}, "stable"
		},
		"default version is default":  func(o *mutate.Options) { lib(o).DefaultVersion = "default" },
		"no default containers":       func(o *mutate.Options) { o.Containers = nil },
		"several default containers":  func(o *mutate.Options) { o.Containers = []string{"dev", "workspace"} },
		"custom names and mountpaths": func(o *mutate.Options) { lib(o).Base, lib(o).MountPath = "starlark-lib", "/opt/lib" },
		"bases share a prefix only":   func(o *mutate.Options) { lib(o).Base, tmpl(o).Base = "tilt", "tilt.templates" },
	} {
		t.Run(name, func(t *testing.T) {
			o := mutate.DefaultOptions()
			edit(&o)
			if err := o.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestOptionsValidateRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(*mutate.Options)
		// mention is what the message must name so the operator can find the bad setting.
		mention string
	}{
		"empty prefix":            {func(o *mutate.Options) { o.AnnotationPrefix = "" }, `annotation prefix ""`},
		"prefix without slash":    {func(o *mutate.Options) { o.AnnotationPrefix = "tilt-lib.platform" }, `"tilt-lib.platform"`},
		"prefix only a slash":     {func(o *mutate.Options) { o.AnnotationPrefix = "/" }, `annotation prefix "/"`},
		"prefix not a subdomain":  {func(o *mutate.Options) { o.AnnotationPrefix = "Tilt_Lib/" }, `"Tilt_Lib/"`},
		"prefix with two slashes": {func(o *mutate.Options) { o.AnnotationPrefix = "example.com/tilt/" }, `"example.com/tilt/"`},
		"alias name invalid":      {func(o *mutate.Options) { o.Aliases = map[string]string{"Stable": "v2"} }, `alias name "Stable"`},
		"alias named default":     {func(o *mutate.Options) { o.Aliases = map[string]string{"default": "v2"} }, `alias name "default"`},
		"alias target invalid":    {func(o *mutate.Options) { o.Aliases = map[string]string{"stable": "V2!"} }, "stable=V2!"},
		"lib configmap invalid":   {func(o *mutate.Options) { lib(o).Base = "Tilt_Lib" }, `--lib-configmap "Tilt_Lib"`},
		"templates configmap empty": {func(o *mutate.Options) { tmpl(o).Base = "" },
			`--templates-configmap ""`},
		"same configmaps":        {func(o *mutate.Options) { tmpl(o).Base = "tilt-lib" }, `are both "tilt-lib"`},
		"relative mount path":    {func(o *mutate.Options) { lib(o).MountPath = "apps/tilt-lib" }, `--lib-mount-path "apps/tilt-lib"`},
		"unclean mount path":     {func(o *mutate.Options) { tmpl(o).MountPath = "/apps/template/" }, `--templates-mount-path "/apps/template/"`},
		"empty mount path":       {func(o *mutate.Options) { lib(o).MountPath = "" }, `--lib-mount-path ""`},
		"root mount path":        {func(o *mutate.Options) { lib(o).MountPath = "/" }, `--lib-mount-path "/"`},
		"same mount paths":       {func(o *mutate.Options) { tmpl(o).MountPath = "/apps/tilt-lib" }, "also the lib mount path"},
		"default version bad":    {func(o *mutate.Options) { lib(o).DefaultVersion = "v2.0" }, `default lib version "v2.0"`},
		"default via bad alias":  {func(o *mutate.Options) { o.Aliases, tmpl(o).DefaultVersion = map[string]string{"x": "X"}, "x" }, `default templates version "x"`},
		"default version length": {func(o *mutate.Options) { lib(o).DefaultVersion = strings.Repeat("v", 64) }, "default lib version"},
		"default makes long name": {func(o *mutate.Options) {
			lib(o).Base, lib(o).DefaultVersion = strings.Repeat("a", 251), "v2" // 254 characters
		}, "gives an invalid ConfigMap name"},
		"container name invalid": {func(o *mutate.Options) { o.Containers = []string{"dev", "Dev_2"} }, `container name "Dev_2"`},
		"container name empty":   {func(o *mutate.Options) { o.Containers = []string{""} }, `container name ""`},
		"templates base extends lib base": {func(o *mutate.Options) { tmpl(o).Base = "tilt-lib-templates" },
			`"tilt-lib" and "tilt-lib-templates" overlap`},
		"lib base extends templates base": {func(o *mutate.Options) { lib(o).Base = "tilt-templates-lib" },
			`"tilt-templates" and "tilt-templates-lib" overlap`},
	} {
		t.Run(name, func(t *testing.T) {
			o := mutate.DefaultOptions()
			tc.edit(&o)
			err := o.Validate()
			if !errors.Is(err, mutate.ErrInvalidOptions) {
				t.Fatalf("Validate() = %v, want an error wrapping ErrInvalidOptions", err)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("Validate() = %q; it should name %q", err, tc.mention)
			}
		})
	}
}

// TestOptionsValidateReportsAll: a misconfigured server should list every problem in one start,
// each one an ErrInvalidOptions of its own.
func TestOptionsValidateReportsAll(t *testing.T) {
	o := mutate.DefaultOptions()
	o.AnnotationPrefix = "Bad/"
	lib(&o).MountPath = "relative"
	o.Containers = []string{"Dev"}
	err := o.Validate()
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Validate() = %v, want a joined error", err)
	}
	errs := joined.Unwrap()
	if len(errs) != 3 {
		t.Fatalf("Validate() reported %d problems, want 3: %v", len(errs), err)
	}
	for _, e := range errs {
		if !errors.Is(e, mutate.ErrInvalidOptions) {
			t.Errorf("%v does not wrap ErrInvalidOptions", e)
		}
	}
}
