package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/platform-tools/tilt-lib-injector/pkg/mutate"
)

// TestEveryComponentHasItsFlags: each row of mutate's component table is configured by three
// shared flags named by the row (--<Flag>-configmap, --<Flag>-mount-path, its DefaultVersionFlag),
// and what they hold reaches that row of MutateOptions. A row added to the table without its
// settings here fails this test, naming the flags to add.
func TestEveryComponentHasItsFlags(t *testing.T) {
	rows := mutate.DefaultOptions().Components
	var args []string
	for i, row := range rows {
		args = append(args,
			fmt.Sprintf("--%s-configmap=base-%d", row.Flag, i),
			fmt.Sprintf("--%s-mount-path=/mnt/%d", row.Flag, i),
			fmt.Sprintf("%s=v%d", row.DefaultVersionFlag, i))
	}
	shared := pflag.NewFlagSet("shared", pflag.ContinueOnError)
	d := Default()
	d.AddSharedFlags(shared)
	for _, a := range args {
		if name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "="); shared.Lookup(name) == nil {
			t.Fatalf("no shared flag --%s: a component row needs its three settings in Config", name)
		}
	}
	c, err := loadInject(t, pflag.NewFlagSet("inject", pflag.ContinueOnError), args, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := c.MutateOptions()
	for i, row := range rows {
		want := mutate.ComponentOptions{Base: fmt.Sprintf("base-%d", i), MountPath: fmt.Sprintf("/mnt/%d", i), DefaultVersion: fmt.Sprintf("v%d", i)}
		if got := o.Component(row.Name); got == nil || got.ComponentOptions != want {
			t.Errorf("%s: MutateOptions row %+v, want %+v from its flags", row.Name, got, want)
		}
	}
	// And the defaults are the table's.
	defaults := Default().MutateOptions()
	for _, row := range rows {
		if got := defaults.Component(row.Name); got == nil || *got != row {
			t.Errorf("%s: Default().MutateOptions() row %+v, want the table's %+v", row.Name, got, row)
		}
	}
}
