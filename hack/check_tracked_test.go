// Package hack_test tests the repository scripts in hack/ that `make` runs.
package hack_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const oneMiB = 1 << 20

// trackedRepo makes a git repository with files (path -> content, mode) staged, and returns it.
func trackedRepo(t *testing.T, files map[string]file) string {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	for name, f := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.content), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "add", "-A")
	return dir
}

type file struct {
	content string
	mode    os.FileMode
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// checkTracked runs hack/check-tracked.sh in dir and returns its exit code and stderr.
func checkTracked(t *testing.T, dir string, allow ...string) (int, string) {
	t.Helper()
	script, err := filepath.Abs("check-tracked.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script, allow...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

func TestCheckTracked(t *testing.T) {
	plain := map[string]file{
		"main.go":          {"package main\n", 0o644},
		"hack/tools.sh":    {"#!/usr/bin/env bash\necho hi\n", 0o755},
		"testdata/big.txt": {strings.Repeat("x", oneMiB), 0o644}, // exactly at the limit
	}
	cases := []struct {
		name    string
		path    string
		file    file
		allow   []string
		wantBad bool
		want    string
	}{
		{"ELF", "webhook", file{"\x7fELF\x02\x01\x01\x00", 0o644}, nil, true, "webhook is an ELF executable"},
		{"Mach-O", "bin/webhook", file{"\xcf\xfa\xed\xfe\x07\x00", 0o755}, nil, true, "bin/webhook is a Mach-O executable"},
		{"PE", "webhook.exe", file{"MZ\x90\x00\x03", 0o644}, nil, true, "webhook.exe is a PE"},
		{"executable bit without #!", "run", file{"echo hi\n", 0o755}, nil, true, "run is executable (mode 755) but not a #! script"},
		{"over 1 MiB", "dump.json", file{strings.Repeat("x", oneMiB+1), 0o644}, nil, true, "dump.json is 1048577 bytes (limit 1048576)"},
		{"allow-listed binary", "webhook", file{"\x7fELF\x02\x01\x01\x00", 0o644}, []string{"webhook"}, false, ""},
		{"allow-listed by glob", "testdata/fixtures/huge.bin", file{strings.Repeat("x", oneMiB+1), 0o644}, []string{"testdata/*.bin"}, false, ""},
		{"allow-list names another file", "webhook", file{"\x7fELF\x02\x01\x01\x00", 0o644}, []string{"webhook2", "web"}, true, "webhook is an ELF executable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]file{c.path: c.file}
			for k, v := range plain {
				files[k] = v
			}
			code, stderr := checkTracked(t, trackedRepo(t, files), c.allow...)
			if (code != 0) != c.wantBad || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want failure=%v naming %q", code, stderr, c.wantBad, c.want)
			}
			if c.wantBad && strings.Count(stderr, "\n") != 1 {
				t.Errorf("want one line, naming only %s:\n%s", c.path, stderr)
			}
		})
	}
}

// An untracked binary (build output) is not the check's business: .gitignore is.
func TestCheckTrackedIgnoresUntrackedFiles(t *testing.T) {
	dir := trackedRepo(t, map[string]file{"main.go": {"package main\n", 0o644}})
	if err := os.WriteFile(filepath.Join(dir, "webhook"), []byte("\x7fELF\x02"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, stderr := checkTracked(t, dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// make lint passes TRACKED_ALLOW to the script, each entry quoted so the shell does not expand globs.
func TestMakeLintPassesTheAllowList(t *testing.T) {
	cmd := exec.Command("make", "-n", "-C", "..", "lint", "TRACKED_ALLOW=webhook testdata/*.bin")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n lint: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "hack/check-tracked.sh 'webhook' 'testdata/*.bin'") {
		t.Fatalf("make lint does not run the check with the allow-list:\n%s", out)
	}
}
