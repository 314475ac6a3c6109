// Package tiltfiletest executes every Tiltfile template and tilt_lib.star the repository ships with
// go.starlark.net, the interpreter Tilt embeds, pinned to the version Tilt's own go.mod uses and run
// with Tilt's dialect options (set, while, top-level if/for, global reassignment, recursion).
//
// It holds no code but its tests. They discover the shipped files themselves — files named Tiltfile
// or tilt_lib.star, and ConfigMap data keys of those names in YAML, anywhere outside testdata/ — and
// fail when there are none, so a new template or library is tested without editing the tests.
//
// Tilt itself is not built here: the Tilt built-ins the files call are stand-ins that take the
// parameters Tilt's API reference documents (an unknown keyword argument is an error, as in Tilt),
// resolve relative paths the way Tilt does (against the directory of the Tiltfile being executed,
// which after a load is the caller's, not the library's) and record every call. Paths are those of
// the workspace container; the stand-ins map them into a temporary directory, so nothing outside it
// is read. What the tests prove, for each template with each library:
//   - only the platform copy (/apps/tilt-lib/tilt_lib.star) exists: it is the one executed;
//   - a developer's ./tilt_lib.star exists: it wins (Local Override), the platform copy is not executed;
//   - neither exists: the Tiltfile fails with one error naming both paths;
//   - every library defines, as functions, each name the template's TILT_LIB_API list takes from it,
//     and every path a library hands Tilt lies inside the workspace, not in the read-only mount.
package tiltfiletest
