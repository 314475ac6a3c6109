package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// parsed applies e to serve's flags without validating.
func parsed(t *testing.T, e Example) Config {
	t.Helper()
	c := Default()
	fs := pflag.NewFlagSet("rules", pflag.ContinueOnError)
	c.AddFlags(fs)
	if err := Apply(fs, e.Args(), func(string) (string, bool) { return "", false }); err != nil {
		t.Fatalf("%v: %v", e, err)
	}
	return c
}

// names reports whether msg names flag's value: the flag itself, the value as given, the value as
// Go prints a duration, or one of the parts of a list or map value.
func names(msg, flag, value string) bool {
	if strings.Contains(msg, "--"+flag) || value != "" && strings.Contains(msg, value) {
		return true
	}
	if d, err := time.ParseDuration(value); err == nil && strings.Contains(msg, d.String()) {
		return true
	}
	for _, part := range strings.FieldsFunc(value, func(r rune) bool { return r == '=' || r == ',' }) {
		if strings.Contains(msg, part) {
			return true
		}
	}
	return false
}

// TestRules: every rule has refused and accepted examples on its own flags; each refused example
// fails that rule (and so Validate), with ErrInvalid and a message naming what was refused; each
// accepted one passes every rule. This table is what the chart's tests check the chart against.
func TestRules(t *testing.T) {
	keys := Keys()
	seen := map[string]bool{}
	for _, r := range Rules {
		t.Run(r.Name, func(t *testing.T) {
			if seen[r.Name] {
				t.Errorf("two rules named %q", r.Name)
			}
			seen[r.Name] = true
			if len(r.Flags) == 0 || len(r.Refused) == 0 || len(r.Accepted) == 0 {
				t.Fatalf("flags %v, %d refused, %d accepted: a rule needs flags and examples of both", r.Flags, len(r.Refused), len(r.Accepted))
			}
			for _, f := range r.Flags {
				if !keys[f] {
					t.Errorf("flag %q is no Config flag", f)
				}
			}
			for _, e := range append(append([]Example(nil), r.Refused...), r.Accepted...) {
				for f := range e {
					if !strings.Contains(" "+strings.Join(r.Flags, " ")+" ", " "+f+" ") {
						t.Errorf("example %v sets %q, which the rule does not read", e, f)
					}
				}
			}
			for _, e := range r.Refused {
				err := r.Check(parsed(t, e))
				if err == nil || !errors.Is(err, ErrInvalid) {
					t.Errorf("refused %v: rule says %v", e, err)
					continue
				}
				if verr := parsed(t, e).Validate(); verr == nil {
					t.Errorf("refused %v: Validate accepts it", e)
				}
				for f, v := range e {
					if !names(err.Error(), f, v) {
						t.Errorf("refused %v: message %q names neither --%s nor %q", e, err, f, v)
					}
				}
				if r.Words != "" && !strings.Contains(err.Error(), r.Words) {
					t.Errorf("refused %v: message %q lacks the rule's words %q", e, err, r.Words)
				}
			}
			for _, e := range r.Accepted {
				if _, err := load(t, e.Args(), nil); err != nil {
					t.Errorf("accepted %v: %v", e, err)
				}
			}
		})
	}
}

// Validate is the rules and nothing else, and inject checks the shared ones only: a serve-only
// refused value passes ValidateShared, a shared one fails it.
func TestValidateIsTheRules(t *testing.T) {
	for _, r := range Rules {
		c := parsed(t, r.Refused[0])
		if err := c.ValidateShared(); (err == nil) != r.ServeOnly() {
			t.Errorf("%s (serve-only %v): ValidateShared of %v = %v", r.Name, r.ServeOnly(), r.Refused[0], err)
		}
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
