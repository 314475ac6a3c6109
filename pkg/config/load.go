package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"
)

// EnvPrefix prefixes the environment variable of every flag.
const EnvPrefix = "TILTLIB_"

// EnvName is the environment variable of a flag: --default-version -> TILTLIB_DEFAULT_VERSION.
func EnvName(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Keys are the --config file keys of both subcommands: the flag names of every Config field.
func Keys() map[string]bool {
	c := Default()
	fs := pflag.NewFlagSet("keys", pflag.ContinueOnError)
	c.AddFlags(fs)
	keys := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) { keys[f.Name] = true })
	return keys
}

// Apply parses args on fs, then fills every Config flag registered on fs (by AddFlags or
// AddSharedFlags) that was not given on the command line from its environment variable, then
// from the --config file. Flags the caller registered itself (inject's -f) come from the command
// line only. A file key of a Config flag not on fs (the other subcommand's) is skipped; any other
// key is an error. lookupEnv is os.LookupEnv outside tests.
func Apply(fs *pflag.FlagSet, args []string, lookupEnv func(string) (string, bool)) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	keys := Keys()
	explicit := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { explicit[f.Name] = true })

	var firstErr error
	fromEnv := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) {
		if !keys[f.Name] || explicit[f.Name] || firstErr != nil {
			return
		}
		if v, ok := lookupEnv(EnvName(f.Name)); ok {
			if err := fs.Set(f.Name, v); err != nil {
				firstErr = fmt.Errorf("%w: %s=%q: %w", ErrInvalid, EnvName(f.Name), v, err)
			}
			fromEnv[f.Name] = true
		}
	})
	if firstErr != nil {
		return firstErr
	}

	path := fs.Lookup("config")
	if path == nil || path.Value.String() == "" {
		return nil
	}
	values, err := readFile(path.Value.String())
	if err != nil {
		return err
	}
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !keys[k] || k == "config" {
			return fmt.Errorf("%w: %s: unknown key %q (keys are the flag names, e.g. default-version)", ErrInvalid, path.Value, k)
		}
		if fs.Lookup(k) == nil || explicit[k] || fromEnv[k] {
			continue
		}
		s, err := flagValue(values[k])
		if err != nil {
			return fmt.Errorf("%w: %s: key %q: %w", ErrInvalid, path.Value, k, err)
		}
		if err := fs.Set(k, s); err != nil {
			return fmt.Errorf("%w: %s: key %q: %w", ErrInvalid, path.Value, k, err)
		}
	}
	return nil
}

func readFile(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading --config: %w", err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(b, &values); err != nil {
		return nil, fmt.Errorf("%w: --config %s is not a YAML map of flag names to values: %w", ErrInvalid, path, err)
	}
	return values, nil
}

// flagValue renders a YAML value the way the flag's Set expects it: lists comma-joined
// (containers), maps as k=v pairs (alias), scalars as text.
func flagValue(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case float64:
		// 'f', not %v: a byte count such as 8388608 must not become 8.388608e+06.
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool, int64, int:
		return fmt.Sprint(v), nil
	case []any:
		parts := make([]string, 0, len(v))
		for _, x := range v {
			s, err := flagValue(x)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(v))
		for _, k := range keys {
			s, err := flagValue(v[k])
			if err != nil {
				return "", err
			}
			parts = append(parts, k+"="+s)
		}
		return strings.Join(parts, ","), nil
	}
	return "", errors.New("unsupported value type")
}

// LoadServe is the whole sequence for `webhook serve`: defaults, every flag, env, file, validation.
func LoadServe(fs *pflag.FlagSet, args []string, lookupEnv func(string) (string, bool)) (Config, error) {
	return loadWith(fs, args, lookupEnv, (*Config).AddFlags, Config.Validate)
}

// LoadInject is the same for `webhook inject`, with the shared section only: the serve-only
// fields keep their defaults and are neither registered, read from the environment nor checked.
func LoadInject(fs *pflag.FlagSet, args []string, lookupEnv func(string) (string, bool)) (Config, error) {
	return loadWith(fs, args, lookupEnv, (*Config).AddSharedFlags, Config.ValidateShared)
}

func loadWith(fs *pflag.FlagSet, args []string, lookupEnv func(string) (string, bool),
	register func(*Config, *pflag.FlagSet), validate func(Config) error) (Config, error) {
	c := Default()
	register(&c, fs)
	if err := Apply(fs, args, lookupEnv); err != nil {
		return c, err
	}
	return c, validate(c)
}
