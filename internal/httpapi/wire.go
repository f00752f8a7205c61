package httpapi

import (
	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/webhook"
)

type ticketBody struct {
	Ticket events.Ticket `json:"ticket"`
}

type listBody struct {
	Tickets []events.Ticket `json:"tickets"`
	Meta    listMeta        `json:"meta"`
	Links   listLinks       `json:"links"`
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
	out := fieldJSON{ID: f.ID, Name: f.Name, Type: f.Type, Options: f.Options, CreatedAt: webhook.FormatTime(f.CreatedAt), UpdatedAt: webhook.FormatTime(f.UpdatedAt)}
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

// webhookJSON is a subscription as the API shows it. Secret is set only in
// the answers to create and rotate_secret.
type webhookJSON struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
	Status      string   `json:"status"`
	Secret      string   `json:"secret,omitempty"`
	CreatedAt   string   `json:"createdAt"`
	UpdatedAt   string   `json:"updatedAt"`
}

func toWebhookJSON(w *helpdesk.Webhook, withSecret bool) webhookJSON {
	out := webhookJSON{ID: w.ID, URL: w.URL, Events: w.Events, Description: w.Description, Status: string(w.Status),
		CreatedAt: webhook.FormatTime(w.CreatedAt), UpdatedAt: webhook.FormatTime(w.UpdatedAt)}
	if withSecret {
		out.Secret = w.Secret
	}
	return out
}

type webhookBody struct {
	Webhook webhookJSON `json:"webhook"`
}

type webhooksBody struct {
	Webhooks []webhookJSON `json:"webhooks"`
}

// attemptJSON is one entry of a delivery log.
type attemptJSON struct {
	EventID    string `json:"eventId"`
	EventType  string `json:"eventType"`
	Attempt    int    `json:"attempt"`
	StatusCode *int   `json:"statusCode"`
	DurationMS int64  `json:"durationMs"`
	Error      string `json:"error,omitempty"`
	Response   string `json:"response,omitempty"`
	At         string `json:"at"`
}

type attemptsBody struct {
	Deliveries []attemptJSON `json:"deliveries"`
	Meta       listMeta      `json:"meta"`
	Links      listLinks     `json:"links"`
}

type replayBody struct {
	Delivery replayJSON `json:"delivery"`
}

type replayJSON struct {
	WebhookID string `json:"webhookId"`
	EventID   string `json:"eventId"`
	Status    string `json:"status"`
}
