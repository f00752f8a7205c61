package helpdesk

import (
	"context"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// WebhookStatus says whether a subscription receives events.
type WebhookStatus string

// The subscription statuses.
const (
	WebhookActive   WebhookStatus = "active"
	WebhookDisabled WebhookStatus = "disabled"
)

// Limits on webhook subscriptions.
const (
	MaxWebhooks       = 100
	MaxWebhookURLLen  = 2048
	MaxWebhookDescLen = 500
)

// Webhook is a subscription: events of the listed types are delivered,
// signed with Secret, to URL.
type Webhook struct {
	ID          string
	URL         string
	Events      []string
	Description string
	Status      WebhookStatus
	Secret      string
	// PreviousSecret also signs deliveries until PreviousSecretExpires,
	// so that receivers can move to a rotated secret without a gap.
	PreviousSecret        string
	PreviousSecretExpires time.Time
	// FailingSince is when deliveries began to fail without a success
	// since; zero while the endpoint is healthy.
	FailingSince time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Version      int64
}

// Secrets returns the secrets that sign a delivery at now: the current one
// and, during a rotation's overlap, the previous one.
func (w *Webhook) Secrets(now time.Time) []string {
	if w.PreviousSecret != "" && now.Before(w.PreviousSecretExpires) {
		return []string{w.Secret, w.PreviousSecret}
	}
	return []string{w.Secret}
}

// Wants reports whether the subscription is active and subscribed to
// eventType.
func (w *Webhook) Wants(eventType string) bool {
	return w.Status == WebhookActive && slices.Contains(w.Events, eventType)
}

// WebhookPatch holds the client-writable fields of a subscription.
type WebhookPatch struct {
	URL         *string
	Events      *[]string
	Description *string
	Status      *WebhookStatus
}

// Validate checks p's fields under prefix (e.g. "webhook."), except the
// URL's reachability, which needs the network (see subscription.Service).
// known lists the event types. On create (creating true) url and events are
// required and status cannot be set.
func (p *WebhookPatch) Validate(prefix string, creating bool, known []string, problems *Problems) {
	urlField, eventsField := prefix+"url", prefix+"events"
	switch {
	case problems.Has(urlField):
	case p.URL == nil && creating:
		problems.Add(urlField, "is required")
	case p.URL != nil && (*p.URL == "" || len(*p.URL) > MaxWebhookURLLen):
		problems.Add(urlField, "must be an https URL of at most %d characters", MaxWebhookURLLen)
	}
	switch {
	case problems.Under(eventsField):
	case p.Events == nil && creating:
		problems.Add(eventsField, "is required")
	case p.Events != nil && len(*p.Events) == 0:
		problems.Add(eventsField, "must name at least one event type")
	case p.Events != nil:
		for i, e := range *p.Events {
			if !slices.Contains(known, e) {
				problems.Add(fmt.Sprintf("%s[%d]", eventsField, i), "must be one of %s", join(known))
			}
		}
	}
	if p.Description != nil && !problems.Has(prefix+"description") && utf8.RuneCountInString(*p.Description) > MaxWebhookDescLen {
		problems.Add(prefix+"description", "must be at most %d characters", MaxWebhookDescLen)
	}
	switch {
	case p.Status == nil || problems.Has(prefix+"status"):
	case creating:
		problems.Add(prefix+"status", "cannot be set on create; subscriptions start active")
	case *p.Status != WebhookActive && *p.Status != WebhookDisabled:
		problems.Add(prefix+"status", "must be active or disabled")
	}
}

// Apply writes p's present fields onto w and reports whether anything
// changed. Re-activating a subscription forgets its failures.
func (p *WebhookPatch) Apply(w *Webhook) bool {
	changed := false
	if p.URL != nil && *p.URL != w.URL {
		w.URL, changed = *p.URL, true
	}
	if p.Events != nil {
		events := dedupe(*p.Events)
		if !slices.Equal(events, w.Events) {
			w.Events, changed = events, true
		}
	}
	if p.Description != nil && *p.Description != w.Description {
		w.Description, changed = *p.Description, true
	}
	if p.Status != nil && *p.Status != w.Status {
		w.Status, changed = *p.Status, true
		if w.Status == WebhookActive {
			w.FailingSince = time.Time{}
		}
	}
	return changed
}

func dedupe(values []string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// StoredEvent is an event as produced from the ticket stream, kept so that
// retries and replays send the very same body.
type StoredEvent struct {
	ID        string
	Type      string
	Body      []byte // the JSON delivered
	CreatedAt time.Time
	// TicketID is the ticket the event is about, whose history holds it.
	TicketID string
	// Order places the event among its ticket's: its stream record's
	// sequence number, then its index among the record's events. The
	// store orders the feed by when an event happened, then by Order.
	Order string
}

// Delivery is one event due to one subscription, until it succeeds or is
// given up.
type Delivery struct {
	WebhookID string
	EventID   string
	// Attempts counts the attempts made so far.
	Attempts int
	// Due is when the next attempt may start. While an attempt is under
	// way it is a lease: nobody else picks the delivery up before it.
	Due time.Time
}

// Attempt is one entry of a subscription's delivery log.
type Attempt struct {
	WebhookID  string
	EventID    string
	EventType  string
	Attempt    int // 1 for the first
	StatusCode int // 0 when no response arrived
	Duration   time.Duration
	Error      string // why the attempt failed; empty on success
	Response   string // the start of the response body
	At         time.Time
}

// Finished is an attempt made and what becomes of its delivery: due again
// at Next, or, when Next is zero, done (delivered or given up).
type Finished struct {
	Delivery *Delivery
	Attempt  *Attempt
	Next     time.Time
}

// AttemptPage is one page of a delivery log, newest first.
type AttemptPage struct {
	Attempts []*Attempt
	Next     string
}

// WebhookStore keeps subscriptions, events, pending deliveries and the
// delivery log.
type WebhookStore interface {
	// CreateWebhook stores a new subscription and, when done is not nil,
	// records done in the same transaction. CodeConflict if done's claim
	// has been lost.
	CreateWebhook(ctx context.Context, w *Webhook, done *Completion) error
	// Webhook returns one subscription. CodeNotFound if none.
	Webhook(ctx context.Context, id string) (*Webhook, error)
	// ListWebhooks returns every subscription, oldest first.
	ListWebhooks(ctx context.Context) ([]*Webhook, error)
	// UpdateWebhook changes a subscription through fn, as
	// TicketStore.UpdateTicket does. CodeNotFound, CodeConflict, or fn's
	// error.
	UpdateWebhook(ctx context.Context, id string, fn func(w *Webhook) (changed bool, err error)) (*Webhook, error)
	// DeleteWebhook removes a subscription. CodeNotFound if none.
	DeleteWebhook(ctx context.Context, id string) error
	// RecordEvents stores events and those of the deliveries they cause
	// that are not pending already, durably, before any is attempted, and
	// returns the deliveries it recorded. Writing an existing event again
	// is harmless, and a pending delivery keeps its state.
	RecordEvents(ctx context.Context, events []*StoredEvent, deliveries []*Delivery) ([]*Delivery, error)
	// Event returns a stored event. CodeNotFound once it has expired.
	Event(ctx context.Context, id string) (*StoredEvent, error)
	// DueDeliveries returns up to limit deliveries due at or before now,
	// earliest first.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*Delivery, error)
	// ClaimDelivery moves d's due time to until, if nobody has moved it
	// since d was read; false if somebody has.
	ClaimDelivery(ctx context.Context, d *Delivery, until time.Time) (bool, error)
	// FinishAttempts logs each attempt and then either reschedules its
	// delivery for Next or, when Next is zero, removes it.
	FinishAttempts(ctx context.Context, done []Finished) error
	// ScheduleDelivery makes d due (again), whatever its state.
	ScheduleDelivery(ctx context.Context, d *Delivery) error
	// ListAttempts returns a page of a subscription's delivery log, newest
	// first. CodeBadRequest for a bad cursor.
	ListAttempts(ctx context.Context, webhookID string, pageSize int, after string) (*AttemptPage, error)
}
