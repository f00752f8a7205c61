package events

import (
	"slices"
	"time"
)

// Event type names, the values of [Event.Type].
const (
	// TicketCreated is sent when a ticket is created.
	TicketCreated = "ticket.created"
	// TicketUpdated is sent when a ticket's fields change.
	TicketUpdated = "ticket.updated"
	// TicketAssignmentChanged is sent when a ticket's assignee changes.
	TicketAssignmentChanged = "ticket.assignment.changed"
	// TicketDeleted is sent when a ticket is deleted.
	TicketDeleted = "ticket.deleted"
	// TicketCommentCreated is sent when a comment (a public reply or an
	// internal note) is added to a ticket.
	TicketCommentCreated = "ticket.comment.created"
	// TicketCommentRedacted is sent when a comment's body is redacted.
	TicketCommentRedacted = "ticket.comment.redacted"
	// TicketRestored is sent when a deleted ticket is restored from the
	// trash, with its comments and history.
	TicketRestored = "ticket.restored"
	// TicketPurged is sent when a deleted ticket is purged from the
	// trash, on request or 30 days after its deletion: its fields,
	// comments and history are gone for good. Its data names only the
	// ticket's id.
	TicketPurged = "ticket.purged"
)

// Types lists every event type the API sends, in a fixed order. Callers must
// not modify it.
var Types = []string{
	TicketCreated,
	TicketUpdated,
	TicketAssignmentChanged,
	TicketDeleted,
	TicketCommentCreated,
	TicketCommentRedacted,
	TicketRestored,
	TicketPurged,
}

// Known reports whether t is one of the event types in [Types]. Names are
// case-sensitive. Receivers should ignore, not reject, unknown types.
func Known(t string) bool {
	return slices.Contains(Types, t)
}

// Event is one webhook delivery body.
type Event struct {
	// ID is "evt_…", equal to the webhook-id header, and identical on every
	// retry of the same delivery: it is the receiver's idempotency key.
	ID string `json:"id"`
	// Type is one of the event type names, such as [TicketCreated].
	Type string `json:"type"`
	// Timestamp is when the change happened, in RFC 3339 UTC. A sender
	// should set it in UTC truncated to milliseconds, as the API's other
	// times are, since encoding/json writes whatever precision it holds.
	Timestamp time.Time `json:"timestamp"`
	// Actor is who made the change. Events recorded before actors were
	// (December 2026) lack it; a receiver should treat a zero Actor as
	// unknown.
	Actor Actor `json:"actor,omitzero"`
	// Data describes the change.
	Data Data `json:"data"`
}

// Actor type names, the values of [Actor.Type].
const (
	// ActorAPIKey is a change requested with an API key.
	ActorAPIKey = "api_key"
	// ActorSystem is a change nothing requested, such as an expiry.
	ActorSystem = "system"
)

// Actor is who made the change an [Event] reports: the API key whose
// request made it, or the system.
type Actor struct {
	// Type is [ActorAPIKey] or [ActorSystem].
	Type string `json:"type"`
	// ID is the API key's id ("key_…"), for ActorAPIKey; never the key.
	ID string `json:"id,omitempty"`
	// Name is the API key's name when the change was made, for
	// ActorAPIKey.
	Name string `json:"name,omitempty"`
}

// Data is the subject of an [Event].
type Data struct {
	// Ticket is the ticket as the API shows it after the change; for
	// ticket.deleted it is the ticket's last state, and for the comment
	// events the ticket the comment belongs to (after the comment changed
	// it: a new comment moves its updatedAt, and a customer's reopens a
	// pending or resolved ticket). ticket.purged has none: what was
	// purged is not repeated.
	Ticket Ticket `json:"ticket,omitzero"`
	// TicketID is, for ticket.purged only, the id of the purged ticket.
	TicketID string `json:"ticketId,omitempty"`
	// Comment is, for ticket.comment.created and ticket.comment.redacted,
	// the comment as the API shows it after the change; nil for the other
	// types.
	Comment *Comment `json:"comment,omitempty"`
	// Previous holds, for ticket.updated and ticket.assignment.changed, the
	// old values of the fields that changed, keyed by JSON field name, for
	// example {"status": "new", "assigneeId": nil}. A nil value means the
	// field was null. Values decode as encoding/json decodes into any, with
	// numbers as json.Number in [Parse]: strings, json.Number, bool, []any
	// and map[string]any. It is absent for the other types.
	Previous map[string]any `json:"previous,omitempty"`
}

// Ticket is a ticket exactly as the REST API shows it. Tags and CustomFields
// are empty lists, never null, in what the API sends.
type Ticket struct {
	// ID is "tkt_" followed by 24 lowercase base32 characters.
	ID string `json:"id"`
	// Subject is the ticket's subject line.
	Subject string `json:"subject"`
	// Status is one of new, open, pending, resolved, closed.
	Status string `json:"status"`
	// Priority is one of low, normal, high, urgent.
	Priority string `json:"priority"`
	// Type is one of question, incident, problem, task.
	Type string `json:"type"`
	// AssigneeID is the assigned user ("usr_…"), or nil when unassigned.
	AssigneeID *string `json:"assigneeId"`
	// RequesterEmail is the requester's address, or nil when unset.
	RequesterEmail *string `json:"requesterEmail"`
	// RequesterName is the requester's name, or nil when unset.
	RequesterName *string `json:"requesterName"`
	// Tags are the ticket's tags.
	Tags []string `json:"tags"`
	// CustomFields are the ticket's custom field values.
	CustomFields []CustomFieldValue `json:"customFields"`
	// CreatedAt is RFC 3339 UTC with milliseconds, e.g.
	// 2026-11-25T10:00:00.123Z.
	CreatedAt string `json:"createdAt"`
	// UpdatedAt has the form of CreatedAt.
	UpdatedAt string `json:"updatedAt"`
}

// CustomFieldValue is one custom field value of a [Ticket].
type CustomFieldValue struct {
	// ID is the custom field definition's id, "cf_…".
	ID string `json:"id"`
	// Value is a string (text, date and dropdown fields), a number (number
	// fields) or a bool (checkbox fields). The API writes a number as the
	// exact decimal it holds (up to 38 significant digits); [Parse]
	// decodes it as a json.Number, exact (json.Unmarshal into any would
	// make it the nearest float64).
	Value any `json:"value"`
}

// Comment is a comment exactly as the REST API shows it.
type Comment struct {
	// ID is "cmt_" followed by 26 characters that sort by creation.
	ID string `json:"id"`
	// TicketID is the ticket the comment belongs to.
	TicketID string `json:"ticketId"`
	// Body is the plain-text message; "" once redacted.
	Body string `json:"body"`
	// Public is true for a reply the customer sees, false for an internal
	// note.
	Public bool `json:"public"`
	// AuthorID is the agent who wrote it ("usr_…"), or nil for a customer.
	AuthorID *string `json:"authorId"`
	// AuthorEmail is the customer who wrote it, or nil for an agent.
	AuthorEmail *string `json:"authorEmail"`
	// AuthorName is the customer's name, or nil.
	AuthorName *string `json:"authorName"`
	// CreatedAt has the form of Ticket.CreatedAt.
	CreatedAt string `json:"createdAt"`
	// RedactedAt is when the body was redacted, or nil.
	RedactedAt *string `json:"redactedAt"`
	// Attachments are the comment's files, in order; empty once redacted.
	Attachments []Attachment `json:"attachments"`
}

// Attachment is a file on a comment. Events carry what describes it, not
// URL and URLExpiresAt: a download URL is valid for minutes, so the API
// issues one with each read of the comment.
type Attachment struct {
	// ID is "att_" followed by 24 characters.
	ID string `json:"id"`
	// Filename is the file's name as uploaded.
	Filename string `json:"filename"`
	// ContentType is the type it is served with: the declared one when on
	// the API's allow-list, "application/octet-stream" otherwise.
	ContentType string `json:"contentType"`
	// Size is its length in bytes.
	Size int64 `json:"size"`
	// URL downloads it, in API answers only.
	URL string `json:"url,omitempty"`
	// URLExpiresAt is when URL stops working, in API answers only.
	URLExpiresAt string `json:"urlExpiresAt,omitempty"`
}
