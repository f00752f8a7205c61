package httpapi

import (
	"time"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// timeLayout is how the API writes times: RFC 3339, UTC, milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// ticketJSON is a ticket as the API shows it.
type ticketJSON struct {
	ID             string            `json:"id"`
	Subject        string            `json:"subject"`
	Status         helpdesk.Status   `json:"status"`
	Priority       helpdesk.Priority `json:"priority"`
	Type           helpdesk.Type     `json:"type"`
	AssigneeID     *string           `json:"assigneeId"`
	RequesterEmail *string           `json:"requesterEmail"`
	RequesterName  *string           `json:"requesterName"`
	Tags           []string          `json:"tags"`
	CustomFields   []valueJSON       `json:"customFields"`
	CreatedAt      string            `json:"createdAt"`
	UpdatedAt      string            `json:"updatedAt"`
}

type valueJSON struct {
	ID    string `json:"id"`
	Value any    `json:"value"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toTicketJSON(t *helpdesk.Ticket) ticketJSON {
	out := ticketJSON{
		ID: t.ID, Subject: t.Subject, Status: t.Status, Priority: t.Priority, Type: t.Type,
		AssigneeID: nullable(t.AssigneeID), RequesterEmail: nullable(t.RequesterEmail), RequesterName: nullable(t.RequesterName),
		Tags: t.Tags, CustomFields: make([]valueJSON, len(t.CustomFields)),
		CreatedAt: formatTime(t.CreatedAt), UpdatedAt: formatTime(t.UpdatedAt),
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	for i, v := range t.CustomFields {
		out.CustomFields[i] = valueJSON(v)
	}
	return out
}

type ticketBody struct {
	Ticket ticketJSON `json:"ticket"`
}

type listBody struct {
	Tickets []ticketJSON `json:"tickets"`
	Meta    listMeta     `json:"meta"`
	Links   listLinks    `json:"links"`
}

type listMeta struct {
	PageSize int  `json:"pageSize"`
	HasMore  bool `json:"hasMore"`
}

type listLinks struct {
	Next *string `json:"next"`
}

// fieldJSON is a custom field definition as the API shows it.
type fieldJSON struct {
	ID        string             `json:"id"`
	Name      string             `json:"name"`
	Type      helpdesk.FieldType `json:"type"`
	Options   []string           `json:"options"`
	CreatedAt string             `json:"createdAt"`
	UpdatedAt string             `json:"updatedAt"`
}

func toFieldJSON(f *helpdesk.CustomField) fieldJSON {
	out := fieldJSON{ID: f.ID, Name: f.Name, Type: f.Type, Options: f.Options, CreatedAt: formatTime(f.CreatedAt), UpdatedAt: formatTime(f.UpdatedAt)}
	if out.Options == nil {
		out.Options = []string{}
	}
	return out
}

type fieldBody struct {
	CustomField fieldJSON `json:"customField"`
}

type fieldsBody struct {
	CustomFields []fieldJSON `json:"customFields"`
}
