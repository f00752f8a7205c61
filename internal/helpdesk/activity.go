package helpdesk

import (
	"context"
	"time"
)

// ActorType says what kind of actor made a change.
type ActorType string

// The actor types.
const (
	// ActorAPIKey is a change an API request made.
	ActorAPIKey ActorType = "api_key"
	// ActorSystem is a change nothing requested (an expiry, say).
	ActorSystem ActorType = "system"
)

// Actor is who made a change: the API key of the request that made it
// (its id and its name at the time, never the key), or the system.
type Actor struct {
	Type ActorType
	ID   string
	Name string
}

// System is the actor of changes nothing requested.
var System = Actor{Type: ActorSystem}

// Stamp is who made a change, and when.
type Stamp struct {
	At time.Time
	By Actor
}

// KeyActor is the actor of a request made with the API key c.
func KeyActor(c Caller) Actor {
	return Actor{Type: ActorAPIKey, ID: c.KeyID, Name: c.KeyName}
}

type actorKey struct{}

// WithActor returns ctx carrying who makes the changes done under it. The
// actor travels in the context, as a request's id does, because every
// write records it and no rule depends on it.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorOf returns the actor ctx carries, or System when it carries none.
func ActorOf(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return System
}

// Limits of the activity record.
const (
	// FeedWindow is how far back the change feed reaches. A cursor older
	// than it is CodeGone.
	FeedWindow = 30 * 24 * time.Hour
	// TrashRetention is how long a deleted ticket stays in the trash,
	// restorable with its comments and history; then it is purged, and
	// they with it.
	TrashRetention = 30 * 24 * time.Hour
	// DefaultEventPageSize and MaxEventPageSize bound page_size on the
	// event lists.
	DefaultEventPageSize = 100
	MaxEventPageSize     = 1000
)

// EventQuery asks for one page of recorded events, oldest first.
type EventQuery struct {
	// TicketID, when History is set, names the ticket whose history is
	// listed; otherwise, when not empty, it filters the feed.
	TicketID string
	// History lists one ticket's history, which outlives the feed's
	// window, instead of the feed.
	History bool
	// Types, when not empty, keeps only events of these types.
	Types    []string
	PageSize int
	// After is the opaque cursor of the previous page, empty for the first.
	After string
}

// EventPage is one page of recorded events.
type EventPage struct {
	Events []*StoredEvent
	// HasMore reports that more events exist now after the page.
	HasMore bool
	// Next is the cursor to continue from; it is always set. When HasMore
	// is false it is where to poll from later, and returns only what is
	// recorded after.
	Next string
}

// EventStore reads the recorded events.
type EventStore interface {
	// ListEvents returns one page of events. CodeBadRequest for a cursor
	// that is malformed, tampered with or issued for another query;
	// CodeGone for a feed cursor older than FeedWindow; CodeNotFound for
	// the history of a ticket that never existed or was deleted more than
	// TrashRetention ago.
	ListEvents(ctx context.Context, q EventQuery) (*EventPage, error)
}

// Activity answers who changed what: the change feed and each ticket's
// history.
type Activity struct {
	Events EventStore
}

// NewActivity returns the activity service over events.
func NewActivity(events EventStore) *Activity { return &Activity{Events: events} }

// Feed returns one page of the change feed; q must have been validated by
// the caller's parser.
func (s *Activity) Feed(ctx context.Context, q EventQuery) (*EventPage, error) {
	q.History = false
	return s.Events.ListEvents(ctx, q)
}

// History returns one page of ticket id's history; q's TicketID is set
// from id. CodeNotFound if the ticket never existed.
func (s *Activity) History(ctx context.Context, id string, q EventQuery) (*EventPage, error) {
	if !ValidTicketID(id) {
		return nil, Errorf(CodeNotFound, "Ticket not found.")
	}
	q.TicketID, q.History = id, true
	return s.Events.ListEvents(ctx, q)
}
