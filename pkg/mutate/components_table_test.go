package mutate

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// ValidateTable is validateTable for the external tests: nil, or an ErrInvalidOptions listing every
// problem of o's component table.
func ValidateTable(o Options) error {
	var msgs []string
	o.validateTable(func(format string, args ...any) { msgs = append(msgs, fmt.Sprintf(format, args...)) })
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidOptions, strings.Join(msgs, "; "))
}

// validateTable checks the rows themselves: two rows sharing a volume, a key or a flag would write
// one Pod field twice. The rows are code, not settings (an operator sets only ComponentOptions, which
// Validate checks), so this is a test of the table rather than a check the binary carries:
// TestProductComponentTable runs it on the product table, TestComponentTableValidate on the
// test-only rows and on broken copies of them.
func (o Options) validateTable(add func(format string, args ...any)) {
	if len(o.Components) == 0 {
		add("the component table is empty")
	}
	taken := map[string]string{}
	claim := func(kind, value, name string) {
		if other, dup := taken[kind+"\x00"+value]; dup {
			add("components %q and %q have the same %s %q", other, name, kind, value)
		}
		taken[kind+"\x00"+value] = name
	}
	for _, k := range []string{KeyInject, KeyContainers, KeyAllowPodOverride, KeyStatus, KeyInjected} {
		claim("key", k, "the webhook's own "+k)
	}
	claim("name", recordContainers, "the injected record's "+recordContainers)
	for _, c := range o.Components {
		if msgs := validation.IsDNS1123Label(c.Name); len(msgs) > 0 {
			add("component %q: the name must be a DNS-1123 label (it names a volume): %s", c.Name, strings.Join(msgs, "; "))
		}
		if msgs := validation.IsDNS1123Label(c.VersionKey); len(msgs) > 0 {
			add("component %q: version key %q must be a DNS-1123 label (it names an annotation and a label): %s", c.Name, c.VersionKey, strings.Join(msgs, "; "))
		}
		if c.Flag == "" || c.DefaultVersionFlag == "" {
			add("component %q: Flag and DefaultVersionFlag must be set", c.Name)
		}
		claim("name", c.Name, c.Name)
		claim("key", c.VersionKey, c.Name)
		claim("key", RequestedKeyPrefix+c.VersionKey, c.Name)
		claim("flag", c.Flag, c.Name)
		claim("default version flag", c.DefaultVersionFlag, c.Name)
		claim("log prefix", c.LogPrefix, c.Name)
	}
}
