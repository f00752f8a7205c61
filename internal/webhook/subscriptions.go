package webhook

import (
	"context"
	"sync"
	"time"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// subscriptions caches the subscription list for ttl.
type subscriptions struct {
	store helpdesk.WebhookStore
	now   func() time.Time
	ttl   time.Duration

	mu      sync.Mutex
	hooks   []*helpdesk.Webhook
	fetched time.Time
}

func (s *subscriptions) all(ctx context.Context) ([]*helpdesk.Webhook, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hooks != nil && s.now().Sub(s.fetched) < s.ttl {
		return s.hooks, nil
	}
	hooks, err := s.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	s.hooks, s.fetched = hooks, s.now()
	return hooks, nil
}

// find returns the subscription with the given id; ok is false when
// there is none.
func (s *subscriptions) find(ctx context.Context, id string) (hook *helpdesk.Webhook, ok bool, err error) {
	hooks, err := s.all(ctx)
	if err != nil {
		return nil, false, err
	}
	for _, h := range hooks {
		if h.ID == id {
			return h, true, nil
		}
	}
	return nil, false, nil
}

func (s *subscriptions) invalidate() {
	s.mu.Lock()
	s.hooks = nil
	s.mu.Unlock()
}
