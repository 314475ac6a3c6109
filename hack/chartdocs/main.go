// Command chartdocs writes the values table of a Helm chart's README.md from the `# --` comments of
// its values.yaml, between the markers <!-- values:begin --> and <!-- values:end -->. With -check it
// writes nothing and fails when the README is stale (`make lint`).
//
// A key with a `# --` comment is one row (its whole subtree is its default); a mapping without one
// is a section, and its keys are rows of their own.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

const (
	beginMarker = "<!-- values:begin -->"
	endMarker   = "<!-- values:end -->"
)

// errStale is returned by run in -check mode when the README differs from what would be written.
var errStale = errors.New("stale")

func main() {
	chart := flag.String("chart", "charts/tilt-lib-injector", "chart directory")
	check := flag.Bool("check", false, "fail if README.md is stale instead of writing it")
	flag.Parse()
	if err := run(*chart, *check); err != nil {
		fmt.Fprintf(os.Stderr, "chartdocs: %v\n", err)
		os.Exit(1)
	}
}

func run(chart string, check bool) error {
	values, err := os.ReadFile(filepath.Join(chart, "values.yaml"))
	if err != nil {
		return err
	}
	table, err := Table(values)
	if err != nil {
		return err
	}
	readmePath := filepath.Join(chart, "README.md")
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		return err
	}
	out, err := Splice(readme, table)
	if err != nil {
		return fmt.Errorf("%s: %w", readmePath, err)
	}
	if bytes.Equal(out, readme) {
		return nil
	}
	if check {
		return fmt.Errorf("%s: %w: run `make chart-docs`", readmePath, errStale)
	}
	return os.WriteFile(readmePath, out, 0o644)
}

// Row is one documented value.
type Row struct{ Key, Type, Default, Description string }

// Table renders the markdown table of values.yaml's documented keys, in file order.
func Table(values []byte) (string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(values, &doc); err != nil {
		return "", fmt.Errorf("values.yaml: %w", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return "", errors.New("values.yaml: want a mapping at the top")
	}
	var rows []Row
	if err := collect(doc.Content[0], "", &rows); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| Key | Type | Default | Description |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s |\n", r.Key, r.Type, cell(r.Default), cell(r.Description))
	}
	return b.String(), nil
}

func collect(m *yaml.Node, prefix string, rows *[]Row) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := prefix + k.Value
		desc, ok := description(k.HeadComment)
		switch {
		case ok:
			def, err := defaultOf(v)
			if err != nil {
				return fmt.Errorf("values.yaml %s: %w", key, err)
			}
			*rows = append(*rows, Row{Key: key, Type: typeOf(v), Default: def, Description: desc})
		case v.Kind == yaml.MappingNode && len(v.Content) > 0:
			if err := collect(v, key+".", rows); err != nil {
				return err
			}
		default:
			return fmt.Errorf("values.yaml line %d: %s has no `# --` comment", k.Line, key)
		}
	}
	return nil
}

// description is the text of the last `# --` comment block: a section comment above it is not part of it.
func description(comment string) (string, bool) {
	lines := strings.Split(comment, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "# --") {
			start = i
		}
	}
	if start < 0 {
		return "", false
	}
	var parts []string
	for i, l := range lines[start:] {
		l = strings.TrimSpace(l)
		if l == "" {
			break
		}
		l = strings.TrimPrefix(l, "#")
		if i == 0 {
			l = strings.TrimPrefix(strings.TrimSpace(l), "--")
		}
		parts = append(parts, strings.TrimSpace(l))
	}
	return strings.Join(parts, " "), true
}

func typeOf(v *yaml.Node) string {
	switch v.Kind {
	case yaml.MappingNode:
		return "object"
	case yaml.SequenceNode:
		return "list"
	}
	switch v.Tag {
	case "!!int":
		return "int"
	case "!!bool":
		return "bool"
	case "!!float":
		return "float"
	}
	return "string"
}

// defaultOf is the value as compact JSON.
func defaultOf(v *yaml.Node) (string, error) {
	var x any
	if err := v.Decode(&x); err != nil {
		return "", err
	}
	j, err := json.Marshal(x)
	if err != nil {
		return "", err
	}
	return string(j), nil
}

// cell escapes what would break a markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// Splice replaces what lies between the markers of readme with table.
func Splice(readme []byte, table string) ([]byte, error) {
	s := string(readme)
	b := strings.Index(s, beginMarker)
	e := strings.Index(s, endMarker)
	if b < 0 || e < b {
		return nil, fmt.Errorf("want %s ... %s", beginMarker, endMarker)
	}
	return []byte(s[:b+len(beginMarker)] + "\n" + table + s[e:]), nil
}
