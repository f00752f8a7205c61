package webhook

import (
	"time"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// timeLayout is how the API writes times: RFC 3339, UTC, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime writes t as the API and its events do.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// TicketView is a ticket as the API shows it, in responses and in events
// alike.
func TicketView(t *helpdesk.Ticket) events.Ticket {
	v := events.Ticket{
		ID: t.ID, Subject: t.Subject, Status: string(t.Status), Priority: string(t.Priority), Type: string(t.Type),
		AssigneeID: nullable(t.AssigneeID), RequesterEmail: nullable(t.RequesterEmail), RequesterName: nullable(t.RequesterName),
		Tags: t.Tags, CustomFields: make([]events.CustomFieldValue, len(t.CustomFields)),
		CreatedAt: FormatTime(t.CreatedAt), UpdatedAt: FormatTime(t.UpdatedAt),
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	for i, c := range t.CustomFields {
		v.CustomFields[i] = events.CustomFieldValue{ID: c.ID, Value: c.Value}
	}
	return v
}
