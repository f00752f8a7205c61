package view

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// FormatTime writes t as the API and its events show times
// (helpdesk.TimeLayout).
func FormatTime(t time.Time) string { return t.UTC().Format(helpdesk.TimeLayout) }

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// orEmpty keeps a list a JSON array, never null.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Ticket is a ticket as the API shows it, in responses and in events
// alike.
func Ticket(t *helpdesk.Ticket) events.Ticket {
	v := events.Ticket{
		ID: t.ID, Subject: t.Subject, Status: string(t.Status), Priority: string(t.Priority), Type: string(t.Type),
		AssigneeID: nullable(t.AssigneeID), RequesterEmail: nullable(t.RequesterEmail), RequesterName: nullable(t.RequesterName),
		Tags: orEmpty(t.Tags), CustomFields: make([]events.CustomFieldValue, len(t.CustomFields)),
		CreatedAt: FormatTime(t.CreatedAt), UpdatedAt: FormatTime(t.UpdatedAt),
	}
	for i, c := range t.CustomFields {
		v.CustomFields[i] = events.CustomFieldValue{ID: c.ID, Value: customValue(c.Value)}
	}
	return v
}

// customValue is a custom field value as JSON shows it: a number as the
// exact decimal it is, a json.Number, not a float.
func customValue(v any) any {
	if n, ok := v.(helpdesk.Number); ok {
		return json.Number(n)
	}
	return v
}

// Actor is who made a change, as events show it.
func Actor(a helpdesk.Actor) events.Actor {
	return events.Actor{Type: string(a.Type), ID: a.ID, Name: a.Name}
}

// Comment is a comment as the API shows it, in responses and in events
// alike.
func Comment(c *helpdesk.Comment) events.Comment {
	v := events.Comment{
		ID: c.ID, TicketID: c.TicketID, Body: c.Body, Public: c.Public,
		AuthorID: nullable(c.AuthorID), AuthorEmail: nullable(c.AuthorEmail), AuthorName: nullable(c.AuthorName),
		CreatedAt: FormatTime(c.CreatedAt),
	}
	if c.Redacted() {
		v.RedactedAt = nullable(FormatTime(c.RedactedAt))
	}
	v.Attachments = make([]events.Attachment, len(c.Attachments))
	for i, a := range c.Attachments {
		v.Attachments[i] = events.Attachment{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size}
	}
	return v
}

// CommentWithLinks is a comment as API answers show it: each attachment
// with its download link (links[i] for c.Attachments[i]).
func CommentWithLinks(c *helpdesk.Comment, links []helpdesk.Link) events.Comment {
	v := Comment(c)
	for i, l := range links {
		v.Attachments[i].URL = l.URL
		v.Attachments[i].URLExpiresAt = FormatTime(l.ExpiresAt)
	}
	return v
}

// Upload is a new upload as the API shows it, with the request that sends
// its bytes.
type Upload struct {
	ID            string            `json:"id"`
	Filename      string            `json:"filename"`
	ContentType   string            `json:"contentType"`
	Size          int64             `json:"size"`
	ExpiresAt     string            `json:"expiresAt"`
	UploadURL     string            `json:"uploadUrl"`
	UploadMethod  string            `json:"uploadMethod"`
	UploadHeaders map[string]string `json:"uploadHeaders"`
}

// NewUpload shows u.
func NewUpload(u *helpdesk.NewUpload) Upload {
	return Upload{ID: u.ID, Filename: u.Filename, ContentType: u.ContentType, Size: u.Size, ExpiresAt: FormatTime(u.ExpiresAt),
		UploadURL: u.Request.URL, UploadMethod: u.Request.Method, UploadHeaders: u.Request.Headers}
}

// CustomField is a custom field definition as the API shows it.
type CustomField struct {
	ID        string             `json:"id"`
	Name      string             `json:"name"`
	Type      helpdesk.FieldType `json:"type"`
	Options   []string           `json:"options"`
	CreatedAt string             `json:"createdAt"`
	UpdatedAt string             `json:"updatedAt"`
}

// NewCustomField shows f.
func NewCustomField(f *helpdesk.CustomField) CustomField {
	return CustomField{ID: f.ID, Name: f.Name, Type: f.Type, Options: orEmpty(f.Options),
		CreatedAt: FormatTime(f.CreatedAt), UpdatedAt: FormatTime(f.UpdatedAt)}
}

// Webhook is a subscription as the API shows it. Secret is set only in the
// answers to create and rotate_secret.
type Webhook struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
	Status      string   `json:"status"`
	Secret      string   `json:"secret,omitempty"`
	CreatedAt   string   `json:"createdAt"`
	UpdatedAt   string   `json:"updatedAt"`
}

// NewWebhook shows w, with its secret only when withSecret is set.
func NewWebhook(w *helpdesk.Webhook, withSecret bool) Webhook {
	out := Webhook{ID: w.ID, URL: w.URL, Events: w.Events, Description: w.Description, Status: string(w.Status),
		CreatedAt: FormatTime(w.CreatedAt), UpdatedAt: FormatTime(w.UpdatedAt)}
	if withSecret {
		out.Secret = w.Secret
	}
	return out
}

// Attempt is one entry of a subscription's delivery log.
type Attempt struct {
	EventID   string `json:"eventId"`
	EventType string `json:"eventType"`
	Attempt   int    `json:"attempt"`
	// StatusCode is null when the endpoint gave no answer.
	StatusCode *int   `json:"statusCode"`
	DurationMS int64  `json:"durationMs"`
	Error      string `json:"error,omitempty"`
	Response   string `json:"response,omitempty"`
	At         string `json:"at"`
}

// MaxAttemptErrorLen bounds, in characters, an attempt's error as the log
// shows it, "…" included: it may quote a network error, whose length is
// not the API's to choose, and the OpenAPI document states a bound.
const MaxAttemptErrorLen = 1024

// NewAttempt shows a.
func NewAttempt(a *helpdesk.Attempt) Attempt {
	msg := a.Error
	if utf8.RuneCountInString(msg) > MaxAttemptErrorLen {
		msg = string([]rune(msg)[:MaxAttemptErrorLen-1]) + "…"
	}
	out := Attempt{EventID: a.EventID, EventType: a.EventType, Attempt: a.Attempt,
		DurationMS: a.Duration.Milliseconds(), Error: msg, Response: a.Response, At: FormatTime(a.At)}
	if a.StatusCode != 0 {
		code := a.StatusCode
		out.StatusCode = &code
	}
	return out
}

// Replay is the answer to a delivery replay: the delivery is scheduled.
type Replay struct {
	WebhookID string `json:"webhookId"`
	EventID   string `json:"eventId"`
	Status    string `json:"status"`
}

// NewReplay shows that d is scheduled.
func NewReplay(d *helpdesk.Delivery) Replay {
	return Replay{WebhookID: d.WebhookID, EventID: d.EventID, Status: "scheduled"}
}
