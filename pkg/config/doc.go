// Package config holds the one Config struct of the webhook and fills it from, in order of
// precedence: command-line flags > TILTLIB_<FLAG> environment variables > the --config YAML file >
// defaults. Every Config flag has exactly one environment variable (dashes become underscores) and
// one config-file key (the flag name), so the Helm chart's values map onto flags one to one.
//
// Config has a shared section (what a Pod gets: `serve` and `inject`) and a serve-only section
// (API access, listeners, certificates, logging). LoadServe registers, reads and validates both;
// LoadInject only the shared one, so `inject` neither lists nor reads nor checks server settings.
// A --config file may hold the keys of both sections; each subcommand takes the ones it knows, and
// a key that is no Config flag is an error.
//
// Validate reports every problem at once with the flag name in each message. It is exactly the
// table Rules (rules.go): each check with the flags it reads and values it refuses and accepts,
// exported so that the Helm chart's tests (hack/charttest) hold the chart to the same rules.
// Config is passed by value after loading; nothing here is safe to mutate concurrently, and
// nothing needs to be.
package config
