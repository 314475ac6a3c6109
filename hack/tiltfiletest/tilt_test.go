package tiltfiletest

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// tiltDialect is what Tilt's starkit executes every Tiltfile with (internal/tiltfile/starkit).
var tiltDialect = &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}

// standIn is one Tilt built-in as the Tiltfile API reference (docs.tilt.dev/api.html) documents it:
// its parameters in starlark.UnpackArgs form ("name?" is optional), which of them are paths Tilt
// resolves against the executing Tiltfile's directory, and what it returns (None when result is nil).
type standIn struct {
	params []string
	paths  []string
	result func(tl *tilt, thread *starlark.Thread, args map[string]starlark.Value, paths []string) (starlark.Value, error)
}

// standIns are the built-ins the shipped files call. A file calling any other name fails to resolve:
// add its stand-in here, from Tilt's documentation, rather than changing the file. (A function, not a
// variable: load_dynamic's stand-in executes files, which needs the stand-ins.)
func standIns() map[string]standIn {
	return map[string]standIn{
		"docker_build": {params: []string{"ref", "context", "build_args?", "dockerfile?", "dockerfile_contents?",
			"live_update?", "match_in_env_vars?", "ignore?", "only?", "entrypoint?", "target?", "ssh?", "network?",
			"secret?", "extra_tag?", "container_args?", "cache_from?", "pull?", "platform?", "extra_hosts?"},
			paths: []string{"context", "dockerfile"}},
		"k8s_yaml": {params: []string{"yaml", "allow_duplicates?"}, paths: []string{"yaml"}},
		"k8s_resource": {params: []string{"workload?", "new_name?", "port_forwards?", "extra_pod_selectors?",
			"trigger_mode?", "resource_deps?", "objects?", "auto_init?", "pod_readiness?", "links?", "labels?",
			"discovery_strategy?"}},
		"kustomize": {params: []string{"pathToDir", "kustomize_bin?", "flags?"}, paths: []string{"pathToDir"},
			result: opaqueResult("blob")},
		"sync": {params: []string{"local_path", "remote_path"}, paths: []string{"local_path"},
			result: opaqueResult("live_update_step")},
		"watch_file":   {params: []string{"file_path"}, paths: []string{"file_path"}},
		"load_dynamic": {params: []string{"path"}, paths: []string{"path"}, result: loadDynamic},
		"fail":         {params: []string{"msg"}, result: fail},
		"os.path.exists": {params: []string{"path"}, paths: []string{"path"},
			result: func(tl *tilt, _ *starlark.Thread, _ map[string]starlark.Value, paths []string) (starlark.Value, error) {
				_, err := os.Stat(tl.host(paths[0])) // as Tilt: any error, not only "not found", is false
				return starlark.Bool(err == nil), nil
			}},
		"os.path.abspath": {params: []string{"path"}, paths: []string{"path"},
			result: func(_ *tilt, _ *starlark.Thread, _ map[string]starlark.Value, paths []string) (starlark.Value, error) {
				return starlark.String(paths[0]), nil
			}},
	}
}

// call is one recorded call of a Tilt built-in.
type call struct {
	Fn    string   // the built-in, e.g. "docker_build"
	From  string   // the file whose code made the call
	Paths []string // its path arguments, resolved as Tilt resolves them
	Args  string   // all its arguments, for failure messages
}

func (c call) String() string { return fmt.Sprintf("%s%s from %s", c.Fn, c.Args, c.From) }

// tilt executes Tiltfiles against the stand-ins and records what they do. Paths in Tiltfiles are the
// workspace container's; the file at path p lives at root+p on disk.
type tilt struct {
	root    string
	main    string
	calls   []call
	printed []string
	loads   map[string]*loaded
}

// loaded is one file's execution: Tilt executes a file once and hands later loads the same result.
type loaded struct {
	done    bool
	globals starlark.StringDict
	err     error
}

// execingKey is the thread-local holding the file being executed. As in Tilt's starkit, a relative
// path resolves against its directory: inside a library function called after the library was
// loaded, that is the caller's directory, not the library's.
const execingKey = "tiltfiletest.execing"

func newTilt(t *testing.T) *tilt {
	return &tilt{root: t.TempDir(), loads: map[string]*loaded{}}
}

// host is where the file at the container path p lives on disk. p is absolute and clean: it cannot
// climb out of root.
func (tl *tilt) host(p string) string { return filepath.Join(tl.root, filepath.FromSlash(p)) }

// write puts src at the container path p.
func (tl *tilt) write(t *testing.T, p, src string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(tl.host(p)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tl.host(p), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run executes the Tiltfile at the container path p, as `tilt up` in its directory would.
func (tl *tilt) run(p string) (starlark.StringDict, error) {
	tl.main = p
	thread := &starlark.Thread{
		Name: "tilt",
		Load: func(th *starlark.Thread, module string) (starlark.StringDict, error) {
			return tl.exec(th, tl.abs(th, module))
		},
		Print: func(_ *starlark.Thread, msg string) { tl.printed = append(tl.printed, msg) },
	}
	return tl.exec(thread, p)
}

// exec executes the file at the absolute container path p once.
func (tl *tilt) exec(thread *starlark.Thread, p string) (starlark.StringDict, error) {
	if l, ok := tl.loads[p]; ok {
		if !l.done {
			return nil, fmt.Errorf("circular load: %s", p)
		}
		return l.globals, l.err
	}
	l := &loaded{}
	tl.loads[p] = l
	src, err := os.ReadFile(tl.host(p))
	if err != nil {
		l.done, l.err = true, fmt.Errorf("error reading file %s: %w", p, errors.Unwrap(err))
		return nil, l.err
	}
	outer := thread.Local(execingKey)
	thread.SetLocal(execingKey, p)
	l.globals, l.err = starlark.ExecFileOptions(tiltDialect, thread, p, src, tl.predeclared(p))
	thread.SetLocal(execingKey, outer)
	l.done = true
	return l.globals, l.err
}

// abs resolves p as Tilt does: against the directory of the file being executed.
func (tl *tilt) abs(thread *starlark.Thread, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(path.Dir(thread.Local(execingKey).(string)), p)
}

// predeclared is what a file sees besides Starlark's own built-ins: the stand-ins, and __file__ and
// __name__ as Tilt sets them.
func (tl *tilt) predeclared(file string) starlark.StringDict {
	name := path.Base(file)
	if file == tl.main {
		name = "__main__"
	}
	d := starlark.StringDict{"__file__": starlark.String(file), "__name__": starlark.String(name)}
	modules := map[string]starlark.StringDict{}
	for fn, s := range standIns() {
		b := tl.builtin(fn, s)
		dot := strings.LastIndexByte(fn, '.')
		if dot < 0 {
			d[fn] = b
			continue
		}
		if modules[fn[:dot]] == nil {
			modules[fn[:dot]] = starlark.StringDict{}
		}
		modules[fn[:dot]][fn[dot+1:]] = b
	}
	for prefix, members := range modules {
		if prefix != "os.path" {
			panic("stand-in module " + prefix + ": only os.path is built")
		}
		d["os"] = &starlarkstruct.Module{Name: "os", Members: starlark.StringDict{
			"path": &starlarkstruct.Module{Name: "path", Members: members}}}
	}
	return d
}

// builtin makes the stand-in for fn: it checks the arguments against the documented parameters,
// resolves the path arguments, records the call and returns the result.
func (tl *tilt) builtin(fn string, s standIn) *starlark.Builtin {
	return starlark.NewBuiltin(fn, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		vals := make([]starlark.Value, len(s.params))
		pairs := make([]any, 0, 2*len(s.params))
		for i, p := range s.params {
			pairs = append(pairs, p, &vals[i])
		}
		if err := starlark.UnpackArgs(fn, args, kwargs, pairs...); err != nil {
			return nil, err
		}
		named := map[string]starlark.Value{}
		for i, p := range s.params {
			named[strings.TrimSuffix(p, "?")] = vals[i]
		}
		var paths []string
		for _, p := range s.paths {
			ps, err := tl.pathArgs(thread, named[p])
			if err != nil {
				return nil, fmt.Errorf("%s: for parameter %s: %w", fn, p, err)
			}
			paths = append(paths, ps...)
		}
		if s.result != nil && len(s.paths) > 0 && len(paths) == 0 {
			return nil, fmt.Errorf("%s: for parameter %s: want a path", fn, strings.TrimSuffix(s.paths[0], "?"))
		}
		tl.calls = append(tl.calls, call{Fn: fn, From: thread.CallFrame(1).Pos.Filename(), Paths: paths, Args: render(args, kwargs)})
		if s.result == nil {
			return starlark.None, nil
		}
		return s.result(tl, thread, named, paths)
	})
}

// pathArgs resolves a path argument: a string, a list of strings, or a value that is not a path
// (a Blob such as kustomize's result, or an omitted optional parameter).
func (tl *tilt) pathArgs(thread *starlark.Thread, v starlark.Value) ([]string, error) {
	switch v := v.(type) {
	case nil, *opaque:
		return nil, nil
	case starlark.String:
		return []string{tl.abs(thread, string(v))}, nil
	case *starlark.List:
		var out []string
		for i := range v.Len() {
			s, ok := v.Index(i).(starlark.String)
			if !ok {
				return nil, fmt.Errorf("got %s in a list of paths, want string", v.Index(i).Type())
			}
			out = append(out, tl.abs(thread, string(s)))
		}
		return out, nil
	}
	return nil, fmt.Errorf("got %s, want a path", v.Type())
}

// render writes a call's arguments as Starlark source would.
func render(args starlark.Tuple, kwargs []starlark.Tuple) string {
	parts := make([]string, 0, len(args)+len(kwargs))
	for _, a := range args {
		parts = append(parts, a.String())
	}
	for _, kv := range kwargs {
		parts = append(parts, fmt.Sprintf("%s=%s", kv[0].(starlark.String).GoString(), kv[1]))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// loadDynamic executes the file (once) and returns its globals as a frozen dict, as Tilt does.
func loadDynamic(tl *tilt, thread *starlark.Thread, _ map[string]starlark.Value, paths []string) (starlark.Value, error) {
	globals, err := tl.exec(thread, paths[0])
	if err != nil {
		return nil, err
	}
	dict := starlark.NewDict(len(globals))
	for k, v := range globals {
		if err := dict.SetKey(starlark.String(k), v); err != nil {
			return nil, err
		}
	}
	dict.Freeze()
	return dict, nil
}

// fail stops execution with msg as the error, as Tilt's fail does.
func fail(_ *tilt, _ *starlark.Thread, args map[string]starlark.Value, _ []string) (starlark.Value, error) {
	msg, ok := starlark.AsString(args["msg"])
	if !ok {
		return nil, fmt.Errorf("fail: for parameter msg: got %s, want string", args["msg"].Type())
	}
	return nil, errors.New(msg)
}

func opaqueResult(typ string) func(*tilt, *starlark.Thread, map[string]starlark.Value, []string) (starlark.Value, error) {
	return func(_ *tilt, _ *starlark.Thread, _ map[string]starlark.Value, paths []string) (starlark.Value, error) {
		return &opaque{typ: typ, desc: strings.Join(paths, ",")}, nil
	}
}

// opaque stands for a Tilt value the files only hand back to Tilt (a Blob, a LiveUpdateStep).
type opaque struct{ typ, desc string }

func (o *opaque) String() string        { return o.typ + "(" + o.desc + ")" }
func (o *opaque) Type() string          { return o.typ }
func (o *opaque) Freeze()               {}
func (o *opaque) Truth() starlark.Bool  { return true }
func (o *opaque) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: %s", o.typ) }
