package httpapi

import (
	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/view"
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

type fieldBody struct {
	CustomField view.CustomField `json:"customField"`
}

type fieldsBody struct {
	CustomFields []view.CustomField `json:"customFields"`
}

type webhookBody struct {
	Webhook view.Webhook `json:"webhook"`
}

type webhooksBody struct {
	Webhooks []view.Webhook `json:"webhooks"`
}

type attemptsBody struct {
	Deliveries []view.Attempt `json:"deliveries"`
	Meta       listMeta       `json:"meta"`
	Links      listLinks      `json:"links"`
}

type replayBody struct {
	Delivery view.Replay `json:"delivery"`
}
