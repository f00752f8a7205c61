package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// eventsBody is a page of recorded events. Each event is its stored body,
// written as it was recorded: byte for byte the body a webhook of its type
// delivers, so that the list and the webhooks cannot drift apart.
type eventsBody struct {
	Events []json.RawMessage `json:"events"`
	Meta   listMeta          `json:"meta"`
	Links  eventLinks        `json:"links"`
}

// eventLinks has a next link on every page, unlike listLinks: on the last
// page for now it is where to poll for what is recorded later.
type eventLinks struct {
	Next string `json:"next"`
}

// The query parameters of the change feed and of a ticket's history, whose
// ticket is in its path.
var (
	feedParams    = []string{"page_size", "after", "type", "ticket_id"}
	historyParams = []string{"page_size", "after", "type"}
)

// parseEventQuery validates the query string of the change feed, or of a
// ticket's history when history is set (the service sets its ticket from
// the path).
func parseEventQuery(values url.Values, history bool) (helpdesk.EventQuery, error) {
	q := helpdesk.EventQuery{History: history}
	known := feedParams
	if history {
		known = historyParams
	}
	var problems helpdesk.Problems
	checkParams(values, known, &problems)
	q.PageSize = pageSize(values, helpdesk.DefaultEventPageSize, helpdesk.MaxEventPageSize, &problems)
	if v, ok := values["type"]; ok && len(v) == 1 {
		q.Types = eventTypes(v[0], &problems)
	}
	if v, ok := values["ticket_id"]; ok && len(v) == 1 && !history {
		if q.TicketID = v[0]; !helpdesk.ValidTicketID(v[0]) {
			problems.Add("ticket_id", `must be a ticket id such as "tkt_kokoknite3yzp7htixhgxn7w"`)
		}
	}
	if err := problems.Err(); err != nil {
		return q, err
	}
	var err error
	q.After, err = cursorParam(values)
	return q, err
}

// eventTypes parses the type filter: event types separated by commas. A
// type named twice counts once, as the filter is a set.
func eventTypes(v string, problems *helpdesk.Problems) []string {
	var types []string
	for t := range strings.SplitSeq(v, ",") {
		if !events.Known(t) {
			problems.Add("type", "must be event types separated by commas, each one of %s", strings.Join(events.Types, ", "))
			return nil
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	return types
}

func (a *api) listEvents(w http.ResponseWriter, r *http.Request) error {
	return a.serveEvents(w, r, false)
}

func (a *api) listTicketEvents(w http.ResponseWriter, r *http.Request) error {
	return a.serveEvents(w, r, true)
}

// serveEvents answers a page of the feed, or of the history of the ticket
// the path names.
func (a *api) serveEvents(w http.ResponseWriter, r *http.Request, history bool) error {
	values, err := queryValues(r.URL.RawQuery)
	if err != nil {
		return err
	}
	q, err := parseEventQuery(values, history)
	if err != nil {
		return err
	}
	path := "/events"
	var page *helpdesk.EventPage
	if id := r.PathValue("id"); history {
		path = "/tickets/" + id + "/events"
		page, err = a.activity.History(r.Context(), id, q)
	} else {
		page, err = a.activity.Feed(r.Context(), q)
	}
	if err != nil {
		return err
	}
	body := eventsBody{Events: make([]json.RawMessage, len(page.Events)), Meta: listMeta{PageSize: q.PageSize, HasMore: page.HasMore}}
	for i, e := range page.Events {
		body.Events[i] = e.Body
	}
	body.Links.Next = pageLink(r, values, path, page.Next)
	writeJSON(w, http.StatusOK, body)
	return nil
}
