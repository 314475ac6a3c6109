package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"
)

// PrometheusTarget is one replica's metrics endpoint as a ServiceMonitor would discover it.
type PrometheusTarget struct {
	// Addr is the loopback host:port serving /metrics.
	Addr string
	// Pod is the value of the target's `pod` label (what the operator's relabelling adds): two
	// replicas' series differ by it and by `instance`, the labels the dashboard's `max by` drops.
	Pod string
	// Labels are further target labels, e.g. cluster: what Thanos or federation adds from each
	// cluster's external labels, so one Prometheus stands for a global query layer. They may not
	// name a label the harness sets (pod, namespace) or Prometheus does (job, instance).
	Labels map[string]string
}

// PrometheusOptions configure StartPrometheus. Zero values pick the defaults.
type PrometheusOptions struct {
	// AssetsDir holds the `prometheus` binary; default $KUBEBUILDER_ASSETS (hack/tools.sh puts
	// Debian's build there, next to etcd and kube-apiserver).
	AssetsDir string
	// WorkDir receives prometheus.yml, the TSDB (data/) and prometheus.log. Required: the caller
	// owns its lifetime (tests pass t.TempDir() or the injector's work dir).
	WorkDir string
	// Job is the scrape job's name, which Prometheus writes into the `job` label: the injector's
	// Service name, as the ServiceMonitor does. Default tilt-lib-injector.
	Job string
	// Namespace is the static `namespace` target label (the ServiceMonitor's: the injector's
	// namespace). With honor_labels a scraped `namespace` (the workspace gauges') wins over it.
	Namespace string
	// Targets are scraped by Job.
	Targets []PrometheusTarget
	// RuleFiles are loaded at start; Prometheus refuses to start when one does not parse.
	RuleFiles []string
	// Interval is the scrape and rule evaluation interval; default 1s.
	Interval time.Duration
	// Timeout bounds the wait for /-/ready; default 60s.
	Timeout time.Duration
}

// Prometheus is a `prometheus` process started by StartPrometheus, listening on a free loopback
// port. Stop ends it by PID; nothing else is ever signalled.
type Prometheus struct {
	// Addr is the loopback host:port of the HTTP API and UI.
	Addr string
	// ConfigPath and LogPath are the generated configuration and the process's output.
	ConfigPath, LogPath string

	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	err  error // cmd.Wait's result, valid after done
}

func (o PrometheusOptions) withDefaults() PrometheusOptions {
	if o.AssetsDir == "" {
		o.AssetsDir = os.Getenv("KUBEBUILDER_ASSETS")
	}
	if o.Job == "" {
		o.Job = "tilt-lib-injector"
	}
	if o.Interval == 0 {
		o.Interval = time.Second
	}
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	return o
}

// StartPrometheus writes the configuration, starts `prometheus` on a free 127.0.0.1 port with its
// storage in the work dir, and waits until it answers /-/ready, or exits (a rule file that does
// not parse), or the timeout passes. On failure the process is stopped and the error quotes the
// end of its log; the log stays in the work dir.
func StartPrometheus(ctx context.Context, o PrometheusOptions) (*Prometheus, error) {
	o = o.withDefaults()
	if o.WorkDir == "" {
		return nil, errors.New("prometheus: WorkDir is required")
	}
	if o.AssetsDir == "" {
		return nil, errors.New("prometheus: KUBEBUILDER_ASSETS is not set: export KUBEBUILDER_ASSETS=$(hack/tools.sh)")
	}
	binary := filepath.Join(o.AssetsDir, "prometheus")
	if _, err := os.Stat(binary); err != nil {
		return nil, fmt.Errorf("prometheus binary missing (run `make tools`): %w", err)
	}
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	cfg, err := PrometheusConfig(o)
	if err != nil {
		return nil, err
	}
	p := &Prometheus{
		Addr:       addr,
		ConfigPath: filepath.Join(o.WorkDir, "prometheus.yml"),
		LogPath:    filepath.Join(o.WorkDir, "prometheus.log"),
		done:       make(chan struct{}),
	}
	if err := os.WriteFile(p.ConfigPath, cfg, 0o600); err != nil {
		return nil, fmt.Errorf("writing %s: %w", p.ConfigPath, err)
	}
	log, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("prometheus log: %w", err)
	}
	p.cmd = exec.Command(binary,
		"--config.file="+p.ConfigPath,
		"--storage.tsdb.path="+filepath.Join(o.WorkDir, "prometheus-data"),
		"--web.listen-address="+addr,
		"--log.level=info",
	)
	p.cmd.Stdout, p.cmd.Stderr = log, log
	p.cmd.SysProcAttr = childAttrs()
	if err := p.cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	go func() {
		err := p.cmd.Wait()
		_ = log.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	ready := func(ctx context.Context) (bool, error) {
		select {
		case <-p.done:
			return false, fmt.Errorf("prometheus exited before it was ready (%v):\n%s", p.exitErr(), p.LogTail(20))
		default:
		}
		return httpOK(ctx, "http://"+addr+"/-/ready"), nil
	}
	if err := Poll(ctx, o.Timeout, ready); err != nil {
		return nil, errors.Join(fmt.Errorf("prometheus not ready on %s (log %s): %w", addr, p.LogPath, err), p.Stop())
	}
	return p, nil
}

// PrometheusConfig renders the prometheus.yml StartPrometheus writes: one job with honor_labels
// and a static `namespace` label per target, exactly the labels a ServiceMonitor with
// honorLabels: true produces (plus `pod`), and the rule files.
func PrometheusConfig(o PrometheusOptions) ([]byte, error) {
	o = o.withDefaults()
	if len(o.Targets) == 0 {
		return nil, errors.New("prometheus: no target to scrape")
	}
	interval := promDuration(o.Interval)
	type staticConfig struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	var statics []staticConfig
	for _, t := range o.Targets {
		labels := map[string]string{"pod": t.Pod}
		for k, v := range t.Labels {
			if k == "pod" || k == "namespace" || k == "job" || k == "instance" || strings.HasPrefix(k, "__") {
				return nil, fmt.Errorf("prometheus: target %s: label %q is set by the harness or Prometheus", t.Addr, k)
			}
			labels[k] = v
		}
		if o.Namespace != "" {
			labels["namespace"] = o.Namespace
		}
		statics = append(statics, staticConfig{Targets: []string{t.Addr}, Labels: labels})
	}
	cfg := map[string]any{
		"global": map[string]any{
			"scrape_interval":     interval,
			"scrape_timeout":      interval,
			"evaluation_interval": interval,
		},
		"scrape_configs": []any{map[string]any{
			"job_name":       o.Job,
			"honor_labels":   true,
			"metrics_path":   "/metrics",
			"static_configs": statics,
		}},
	}
	if len(o.RuleFiles) > 0 {
		cfg["rule_files"] = o.RuleFiles
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("rendering prometheus.yml: %w", err)
	}
	return out, nil
}

// promDuration renders d as a Prometheus duration ("1s", "500ms"): Go's "1m0s" is not one.
func promDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}

// Stop sends SIGTERM to the process StartPrometheus started, by PID, waits up to 30s for it to
// exit, then kills it. Safe to call twice.
func (p *Prometheus) Stop() error {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signalling prometheus pid %d: %w", p.cmd.Process.Pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("prometheus pid %d ignored SIGTERM for 30s and was killed (log %s)", p.cmd.Process.Pid, p.LogPath)
	}
}

// PID of the process, 0 when it never started.
func (p *Prometheus) PID() int {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// LogTail returns the last n lines of the log, for error messages.
func (p *Prometheus) LogTail(n int) string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (p *Prometheus) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
