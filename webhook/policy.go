// Package webhook is enigate's validating admission webhook: a controller-runtime webhook
// server whose handler is a dispatch table by kind, adapting admission requests to the pure
// rules in schema/rules. The policy (model.Policy as YAML) comes from a file or the
// platform-owned ConfigMap and is hot-reloaded; a broken policy never replaces the last good
// one.
package webhook

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/schema/contract"
	"github.com/enigate/enigate/schema/model"
	"github.com/enigate/enigate/schema/rules"
)

// PolicyKey is the ConfigMap key holding the policy YAML.
const PolicyKey = contract.PolicyKey

// ParsePolicy decodes policy YAML strictly and compiles it. Every problem is returned, one
// per line.
func ParsePolicy(data []byte) (*rules.Index, error) {
	if len(data) == 0 {
		return nil, errors.New("policy: empty document")
	}
	var p model.Policy
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	ix, errs := rules.CompilePolicy(p)
	if len(errs) > 0 {
		return nil, fmt.Errorf("policy %q: %s", p.Environment, rules.Summary(errs, rules.MaxReported))
	}
	return ix, nil
}

// PolicyCheckBudget bounds how long the webhook judges a new policy before refusing it. It is
// well under the ValidatingWebhookConfiguration's timeoutSeconds (5): a check that would run
// past the API server's timeout must refuse, never time out, since the policy object's webhook
// entry fails open (failurePolicy Ignore) and a timeout would admit the policy.
const PolicyCheckBudget = 2 * time.Second

// parsePolicyWithin runs ParsePolicy and refuses the policy when it takes longer than budget.
func parsePolicyWithin(ctx context.Context, data []byte, budget time.Duration) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("policy: internal error checking it: %v", r)
			}
		}()
		_, err := ParsePolicy(data)
		done <- err
	}()
	t := time.NewTimer(budget)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("policy: not checked within %s (refused rather than left to the API server timeout)", budget)
	case <-ctx.Done():
		return fmt.Errorf("policy: check cancelled: %w", ctx.Err())
	}
}

// PolicyStore holds the last good policy and the state of the last load attempt. Safe for
// concurrent use; readers never block.
type PolicyStore struct {
	current atomic.Pointer[rules.Index]
	mu      sync.Mutex
	lastErr error
	source  string
}

// Current returns the policy in force, or nil before the first good load.
func (s *PolicyStore) Current() *rules.Index { return s.current.Load() }

// Load parses data from source (a file path or namespace/name of the ConfigMap). On success the
// policy replaces the current one; on failure the current one stays and the error is kept for
// readiness and metrics.
func (s *PolicyStore) Load(source string, data []byte) error {
	ix, err := ParsePolicy(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.source = source
	if err != nil {
		s.lastErr = fmt.Errorf("%s: %w", source, err)
		policyLoads.WithLabelValues("error").Inc()
		policyCurrent.Set(0)
		return s.lastErr
	}
	s.lastErr = nil
	s.current.Store(ix)
	policyLoads.WithLabelValues("ok").Inc()
	policyCurrent.Set(1)
	policyTeams.Set(float64(len(ix.Policy.Teams)))
	return nil
}

// Fail records that the policy source could not be read (e.g. the ConfigMap or key vanished).
func (s *PolicyStore) Fail(source string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.source = source
	s.lastErr = fmt.Errorf("%s: %w", source, err)
	policyLoads.WithLabelValues("error").Inc()
	policyCurrent.Set(0)
}

// LastError is the error of the last load attempt, nil when it succeeded.
func (s *PolicyStore) LastError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}
