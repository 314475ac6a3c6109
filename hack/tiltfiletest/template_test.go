package tiltfiletest

import (
	"path"
	"slices"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// The workspace container as a developer has it: their repo, with the Tiltfile copied from the
// template, and the library where the injector mounts it by default.
const workspace = "/home/coder/project"

var (
	tiltfile    = path.Join(workspace, templateKey)
	localLib    = path.Join(workspace, libraryKey)
	platformLib = path.Join(defaultMountPath(mutate.LibVolume), libraryKey)
)

// defaultMountPath is where the injector mounts a component by default.
func defaultMountPath(component string) string {
	o := mutate.DefaultOptions()
	return o.Component(component).MountPath
}

// decoy stands at the platform path when a local copy must win: executing it fails the run.
const decoy = `fail("the platform copy was executed although a local ./tilt_lib.star exists")` + "\n"

func TestLibrariesDefineWhatTemplatesTake(t *testing.T) {
	templates, libraries := discover(t)
	for _, tmpl := range templates {
		api, err := templateAPI(tmpl.Src)
		if err != nil {
			t.Errorf("%s: %v", tmpl.Name, err)
			continue
		}
		for _, lib := range libraries {
			tl := newTilt(t)
			tl.write(t, platformLib, lib.Src)
			globals, err := tl.run(platformLib)
			if err != nil {
				t.Errorf("%s does not execute: %v", lib.Name, err)
				continue
			}
			for _, name := range api {
				if _, ok := globals[name].(*starlark.Function); !ok {
					t.Errorf("%s does not define the function %s, which %s takes from it", lib.Name, name, tmpl.Name)
				}
			}
		}
	}
}

func TestTemplatesFindTheLibrary(t *testing.T) {
	templates, libraries := discover(t)
	for _, tmpl := range templates {
		t.Run(tmpl.Name, func(t *testing.T) {
			for _, lib := range libraries {
				t.Run("platform copy only/"+lib.Name, func(t *testing.T) {
					runUsing(t, tmpl, platformLib, map[string]string{platformLib: lib.Src})
				})
				t.Run("local override/"+lib.Name, func(t *testing.T) {
					runUsing(t, tmpl, localLib, map[string]string{localLib: lib.Src, platformLib: decoy})
				})
				t.Run("local copy only/"+lib.Name, func(t *testing.T) {
					runUsing(t, tmpl, localLib, map[string]string{localLib: lib.Src})
				})
			}
			t.Run("neither", func(t *testing.T) {
				tl := workspaceWith(t, tmpl, nil)
				failsNaming(t, tl, localLib, platformLib)
			})
			t.Run("neither, mount empty", func(t *testing.T) {
				// The mount is optional: without its ConfigMap, kubelet mounts an empty directory.
				tl := workspaceWith(t, tmpl, map[string]string{path.Join(path.Dir(platformLib), ".keep"): ""})
				failsNaming(t, tl, localLib, platformLib)
			})
			t.Run("local copy defines nothing", func(t *testing.T) {
				// A local copy wins even when it is stale: it is named in the error, not skipped.
				api, err := templateAPI(tmpl.Src)
				if err != nil {
					t.Fatal(err)
				}
				tl := workspaceWith(t, tmpl, map[string]string{localLib: "# defines nothing\n", platformLib: libraries[0].Src})
				failsNaming(t, tl, append([]string{localLib}, api...)...)
			})
		})
	}
}

// workspaceWith is a workspace holding the template as its Tiltfile and files (container path →
// content).
func workspaceWith(t *testing.T, tmpl shipped, files map[string]string) *tilt {
	t.Helper()
	tl := newTilt(t)
	tl.write(t, tiltfile, tmpl.Src)
	for p, src := range files {
		tl.write(t, p, src)
	}
	return tl
}

// runUsing runs the template in a workspace holding files and checks that it executed the library
// at want, and only that one.
func runUsing(t *testing.T, tmpl shipped, want string, files map[string]string) {
	t.Helper()
	tl := workspaceWith(t, tmpl, files)
	if _, err := tl.run(tiltfile); err != nil {
		t.Fatalf("tilt up: %v\ncalls: %v", err, tl.calls)
	}
	var loads []string
	var fromLib int
	for _, c := range tl.calls {
		if c.Fn == "load_dynamic" {
			loads = append(loads, c.Paths...)
		}
		switch c.From {
		case tiltfile:
		case want:
			fromLib++
			// After the load, Tilt resolves the library's relative paths against the Tiltfile's
			// directory; a path into the read-only mount would be a build context nobody can edit.
			for _, p := range c.Paths {
				if p != workspace && !strings.HasPrefix(p, workspace+"/") {
					t.Errorf("%v: path %s is outside the workspace %s", c, p, workspace)
				}
			}
		default:
			t.Errorf("%v: only the Tiltfile and %s should run", c, want)
		}
	}
	if !slices.Equal(loads, []string{want}) {
		t.Errorf("load_dynamic of %q, want exactly %s", loads, want)
	}
	if fromLib == 0 {
		t.Errorf("no Tilt call from %s: the Tiltfile did not use it; calls: %v", want, tl.calls)
	}
	if !slices.ContainsFunc(tl.printed, func(s string) bool { return strings.Contains(s, want) }) {
		t.Errorf("printed %q: no line says the library comes from %s", tl.printed, want)
	}
	// os.path.exists does not watch: without a watch, a local copy added while Tilt runs is ignored.
	if !slices.ContainsFunc(tl.calls, func(c call) bool { return c.Fn == "watch_file" && slices.Contains(c.Paths, localLib) }) {
		t.Errorf("no watch_file(%s): Tilt would not notice a local copy added later; calls: %v", localLib, tl.calls)
	}
}

// failsNaming runs the workspace's Tiltfile and checks that it fails before loading any library,
// with an error that names each of want.
func failsNaming(t *testing.T, tl *tilt, want ...string) {
	t.Helper()
	_, err := tl.run(tiltfile)
	if err == nil {
		t.Fatalf("tilt up succeeded; calls: %v", tl.calls)
	}
	t.Logf("tilt up: %v", err)
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error does not name %s: %v", w, err)
		}
	}
	for _, c := range tl.calls {
		if c.From != tiltfile || c.Fn == "docker_build" || c.Fn == "k8s_yaml" {
			t.Errorf("%v after the library was not found", c)
		}
	}
}
