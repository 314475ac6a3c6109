package harness

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// PromRule is one rule as /api/v1/rules reports it.
type PromRule struct {
	Group, Name string
	// Kind is "alerting" or "recording".
	Kind  string
	Query string
	// Health is "ok", "err" or "unknown" (not evaluated yet); LastError says why for "err".
	Health, LastError string
	// State of an alerting rule: "inactive", "pending" or "firing".
	State          string
	LastEvaluation time.Time
}

func (p *Prometheus) api() (promv1.API, error) {
	c, err := api.NewClient(api.Config{Address: "http://" + p.Addr, Client: loopbackHTTP})
	if err != nil {
		return nil, fmt.Errorf("prometheus client: %w", err)
	}
	return promv1.NewAPI(c), nil
}

// Query evaluates expr now through /api/v1/query and returns its samples: a vector as is, a
// scalar as one sample without labels. Any other result type (a range vector) is an error, as is
// any error Prometheus reports (a parse error quotes the expression).
func (p *Prometheus) Query(ctx context.Context, expr string) (model.Vector, error) {
	a, err := p.api()
	if err != nil {
		return nil, err
	}
	v, _, _, err := a.Query(ctx, expr, time.Now())
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", expr, err)
	}
	switch r := v.(type) {
	case model.Vector:
		return r, nil
	case *model.Scalar:
		return model.Vector{{Metric: model.Metric{}, Value: r.Value, Timestamp: r.Timestamp}}, nil
	default:
		return nil, fmt.Errorf("query %q: result type %s, want an instant vector or a scalar", expr, v.Type())
	}
}

// WaitScraped waits until Prometheus has n active targets and has scraped every one of them
// successfully after since: from then on, queries see what the targets exported at since or
// later. On timeout the error lists each target's last state.
func (p *Prometheus) WaitScraped(ctx context.Context, n int, since time.Time, timeout time.Duration) error {
	a, err := p.api()
	if err != nil {
		return err
	}
	var last []string
	err = Poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		res, err := a.Targets(ctx)
		if err != nil {
			return false, nil // not answering yet: the deadline reports it
		}
		last = last[:0]
		fresh := 0
		for _, t := range res.Active {
			last = append(last, fmt.Sprintf("%s: %s, last scrape %s %s", t.ScrapeURL, t.Health,
				t.LastScrape.Format(time.RFC3339Nano), t.LastError))
			if t.Health == promv1.HealthGood && t.LastScrape.After(since) {
				fresh++
			}
		}
		return len(res.Active) == n && fresh == n, nil
	})
	if err != nil {
		return fmt.Errorf("prometheus never scraped %d targets after %s:\n  %s\n%w",
			n, since.Format(time.RFC3339Nano), strings.Join(last, "\n  "), err)
	}
	return nil
}

// Rules lists every loaded rule, in file and group order.
func (p *Prometheus) Rules(ctx context.Context) ([]PromRule, error) {
	a, err := p.api()
	if err != nil {
		return nil, err
	}
	res, err := a.Rules(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("/api/v1/rules: %w", err)
	}
	var out []PromRule
	for _, g := range res.Groups {
		for _, r := range g.Rules {
			switch r := r.(type) {
			case promv1.AlertingRule:
				out = append(out, PromRule{Group: g.Name, Name: r.Name, Kind: "alerting", Query: r.Query,
					Health: string(r.Health), LastError: r.LastError, State: r.State, LastEvaluation: r.LastEvaluation})
			case promv1.RecordingRule:
				out = append(out, PromRule{Group: g.Name, Name: r.Name, Kind: "recording", Query: r.Query,
					Health: string(r.Health), LastError: r.LastError, LastEvaluation: r.LastEvaluation})
			default:
				return nil, fmt.Errorf("/api/v1/rules: group %s holds a rule of type %T", g.Name, r)
			}
		}
	}
	return out, nil
}

// WaitRulesEvaluated waits until every loaded rule has been evaluated after since, and returns
// the rules as then reported (health included: the caller decides what is acceptable).
func (p *Prometheus) WaitRulesEvaluated(ctx context.Context, since time.Time, timeout time.Duration) ([]PromRule, error) {
	var rules []PromRule
	err := Poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		var err error
		if rules, err = p.Rules(ctx); err != nil {
			return false, nil // not answering yet: the deadline reports it
		}
		return !slices.ContainsFunc(rules, func(r PromRule) bool { return !r.LastEvaluation.After(since) }), nil
	})
	if err != nil {
		return rules, errors.Join(fmt.Errorf("rules not all evaluated after %s: %+v", since.Format(time.RFC3339Nano), rules), err)
	}
	return rules, nil
}
