package main

import (
	"io"
	"strings"
	"testing"
)

func TestFlagDefaultsAreTheIssueScale(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rounds != 3 || c.Pods != 200 || strings.Join(c.Sizes, ",") != "6KB,89KB" || len(c.Conns) != 3 || len(c.Rates) != 4 || len(c.Sections) != 3 {
		t.Errorf("defaults: %+v", c)
	}
}

// Every count, rate and time has a bound, tested at the bound and one past it.
func TestFlagBounds(t *testing.T) {
	for _, c := range []struct {
		args []string
		bad  string // "" when the args are valid
	}{
		{[]string{"-rounds", "20"}, ""},
		{[]string{"-rounds", "21"}, "-rounds 21"},
		{[]string{"-rounds", "0"}, "-rounds 0"},
		{[]string{"-conns", "1,256"}, ""},
		{[]string{"-conns", "257"}, "-conns"},
		{[]string{"-conns", "0"}, "-conns"},
		{[]string{"-conns", ""}, "-conns: none given"},
		{[]string{"-rates", "20000"}, ""},
		{[]string{"-rates", "20001"}, "-rates"},
		{[]string{"-rates", "fast"}, "-rates"},
		{[]string{"-open-conns", "1024"}, ""},
		{[]string{"-open-conns", "1025"}, "-open-conns 1025"},
		{[]string{"-open-conns", "0"}, "-open-conns 0"},
		{[]string{"-pods", "5000"}, ""},
		{[]string{"-pods", "5001"}, "-pods 5001"},
		{[]string{"-closed-time", "1m"}, ""},
		{[]string{"-closed-time", "61s"}, "-closed-time"},
		{[]string{"-open-time", "0s"}, "-open-time"},
		{[]string{"-closed-max", "0"}, "-closed-max 0"},
		{[]string{"-closed-max", "10000001"}, "-closed-max"},
		{[]string{"-sections", "open,warp"}, `unknown section "warp"`},
		{[]string{"-sections", ","}, "-sections: none given"},
		{[]string{"-sizes", "6KB,7KB"}, `body "7KB" is not on the ladder`},
		{[]string{"-open-size", "30KB-managedFields"}, ""},
		{[]string{"-create-size", "1MB"}, `body "1MB"`},
		{[]string{"-timeout", "0s"}, "-timeout"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		_, err := parseFlags(c.args, io.Discard)
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("%q: unexpected error %v", c.args, err)
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("%q: error %v, want one about %q", c.args, err, c.bad)
		}
	}
}
