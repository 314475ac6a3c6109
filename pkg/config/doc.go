// Package config holds the one Config struct of the webhook and fills it from, in order of
// precedence: command-line flags > TILTLIB_<FLAG> environment variables > the --config YAML file >
// defaults. Every flag has exactly one environment variable (dashes become underscores) and one
// config-file key (the flag name), so the Helm chart's values map onto flags one to one.
//
// Validate reports every problem at once with the flag name in each message. Config is passed by
// value after Load; nothing here is safe to mutate concurrently, and nothing needs to be.
package config
