package subscription

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/ssrf"
)

// RotationOverlap is how long a rotated-out secret keeps signing beside
// the new one.
const RotationOverlap = 24 * time.Hour

// URLChecker vets a subscription URL; ssrf.Guard implements it. A URL it
// rejects is answered with an *ssrf.URLError.
type URLChecker interface {
	CheckURL(ctx context.Context, raw string) error
}

// Service carries out the subscription API.
type Service struct {
	store helpdesk.WebhookStore
	urls  URLChecker
	now   helpdesk.Clock
}

// NewService returns a Service on store, vetting URLs with urls.
func NewService(store helpdesk.WebhookStore, urls URLChecker) *Service {
	return &Service{store: store, urls: urls}
}

func (s *Service) clock() time.Time { return s.now.Now() }

var errNotFound = helpdesk.Errorf(helpdesk.CodeNotFound, "Webhook not found.")

// validID reports whether id has the shape of a webhook's id.
func validID(id string) bool { return helpdesk.HasIDShape(id, "whk_", 24, 24) }

// validEventID reports whether id has the shape of an event's id.
func validEventID(id string) bool { return helpdesk.HasIDShape(id, "evt_", 26, 26) }

// validate checks p, including whether its URL may be reached.
func (s *Service) validate(ctx context.Context, p *helpdesk.WebhookPatch, creating bool, problems helpdesk.Problems) error {
	p.Validate("webhook.", creating, events.Types, &problems)
	if p.URL != nil && !problems.Has("webhook.url") {
		var bad *ssrf.URLError
		switch err := s.urls.CheckURL(ctx, *p.URL); {
		case errors.As(err, &bad):
			problems.Add("webhook.url", "%s", bad.Message)
		case err != nil:
			return fmt.Errorf("check webhook url: %w", err)
		}
	}
	return problems.Err()
}

// Create validates p and stores a new active subscription with a fresh
// secret, which the returned Webhook carries (it is shown only now and on
// rotation), and complete's completion when it is not nil.
func (s *Service) Create(ctx context.Context, p *helpdesk.WebhookPatch, problems helpdesk.Problems, complete helpdesk.Complete[*helpdesk.Webhook]) (*helpdesk.Webhook, error) {
	if err := s.validate(ctx, p, true, problems); err != nil {
		return nil, err
	}
	existing, err := s.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	if len(existing) >= helpdesk.MaxWebhooks {
		return nil, helpdesk.Errorf(helpdesk.CodeConflict, "There are already %d webhooks; delete one first.", helpdesk.MaxWebhooks)
	}
	now := s.clock()
	w := &helpdesk.Webhook{ID: helpdesk.NewID("whk_"), Status: helpdesk.WebhookActive, Secret: events.NewSecret(), CreatedAt: now, UpdatedAt: now}
	p.Apply(w)
	if err := s.store.CreateWebhook(ctx, w, complete.Of(w)); err != nil {
		return nil, err
	}
	return w, nil
}

// Webhook returns one subscription. CodeNotFound if none.
func (s *Service) Webhook(ctx context.Context, id string) (*helpdesk.Webhook, error) {
	if !validID(id) {
		return nil, errNotFound
	}
	return s.store.Webhook(ctx, id)
}

// List returns every subscription, oldest first.
func (s *Service) List(ctx context.Context) ([]*helpdesk.Webhook, error) {
	return s.store.ListWebhooks(ctx)
}

// Update validates p and applies it. Setting status active again forgets
// the endpoint's failures.
func (s *Service) Update(ctx context.Context, id string, p *helpdesk.WebhookPatch, problems helpdesk.Problems) (*helpdesk.Webhook, error) {
	if !validID(id) {
		return nil, errNotFound
	}
	if err := s.validate(ctx, p, false, problems); err != nil {
		return nil, err
	}
	now := s.clock()
	return s.store.UpdateWebhook(ctx, id, func(w *helpdesk.Webhook) (bool, error) {
		if !p.Apply(w) {
			return false, nil
		}
		w.UpdatedAt = now
		return true, nil
	})
}

// Delete removes a subscription. CodeNotFound if none.
func (s *Service) Delete(ctx context.Context, id string) error {
	if !validID(id) {
		return errNotFound
	}
	return s.store.DeleteWebhook(ctx, id)
}

// RotateSecret gives a subscription a new secret; the old one keeps
// signing beside it for RotationOverlap.
func (s *Service) RotateSecret(ctx context.Context, id string) (*helpdesk.Webhook, error) {
	if !validID(id) {
		return nil, errNotFound
	}
	now := s.clock()
	return s.store.UpdateWebhook(ctx, id, func(w *helpdesk.Webhook) (bool, error) {
		w.PreviousSecret, w.PreviousSecretExpires = w.Secret, now.Add(RotationOverlap)
		w.Secret, w.UpdatedAt = events.NewSecret(), now
		return true, nil
	})
}

// Attempts returns a page of a subscription's delivery log, newest first.
func (s *Service) Attempts(ctx context.Context, id string, pageSize int, after string) (*helpdesk.AttemptPage, error) {
	if _, err := s.Webhook(ctx, id); err != nil {
		return nil, err
	}
	return s.store.ListAttempts(ctx, id, pageSize, after)
}

// Replay schedules an event for delivery to a subscription again, at
// once, with the same webhook-id. The event must be one the subscription
// takes and no older than 30 days.
func (s *Service) Replay(ctx context.Context, id, eventID string) (*helpdesk.Delivery, error) {
	w, err := s.Webhook(ctx, id)
	if err != nil {
		return nil, err
	}
	if !validEventID(eventID) {
		return nil, helpdesk.Errorf(helpdesk.CodeNotFound, "Event not found.")
	}
	ev, err := s.store.Event(ctx, eventID)
	if err != nil {
		return nil, err
	}
	if !w.Wants(ev.Type) {
		return nil, helpdesk.Errorf(helpdesk.CodeConflict, "The webhook is disabled or does not take %s events.", ev.Type)
	}
	d := &helpdesk.Delivery{WebhookID: id, EventID: eventID, Due: s.clock()}
	if err := s.store.ScheduleDelivery(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}
