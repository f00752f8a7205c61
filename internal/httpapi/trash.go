package httpapi

import (
	"net/http"
	"net/url"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
)

// deletedTicket is a ticket as the trash shows it: as the API showed it
// when it was deleted, and when that was.
type deletedTicket struct {
	events.Ticket
	DeletedAt string `json:"deletedAt"`
}

type trashBody struct {
	Tickets []deletedTicket `json:"tickets"`
	Meta    listMeta        `json:"meta"`
	Links   listLinks       `json:"links"`
}

// parseTrashQuery validates the query string of the trash's list.
func parseTrashQuery(values url.Values) (helpdesk.TrashQuery, error) {
	size, after, err := parsePage(values)
	return helpdesk.TrashQuery{PageSize: size, After: after}, err
}

func (a *api) listDeletedTickets(w http.ResponseWriter, r *http.Request) error {
	values, err := queryValues(r.URL.RawQuery)
	if err != nil {
		return err
	}
	q, err := parseTrashQuery(values)
	if err != nil {
		return err
	}
	page, err := a.trash.DeletedTickets(r.Context(), q)
	if err != nil {
		return err
	}
	body := trashBody{Tickets: make([]deletedTicket, len(page.Tickets)), Meta: listMeta{PageSize: q.PageSize, HasMore: page.Next != ""}}
	for i, d := range page.Tickets {
		body.Tickets[i] = deletedTicket{Ticket: view.Ticket(d.Ticket), DeletedAt: view.FormatTime(d.Deleted.At)}
	}
	body.Links.Next = nextLink(r, values, "/deleted_tickets", page.Next)
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (a *api) restoreTicket(w http.ResponseWriter, r *http.Request) error {
	t, err := a.trash.RestoreTicket(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ticketReply(r, http.StatusOK, t).write(w)
	return nil
}

func (a *api) purgeTicket(w http.ResponseWriter, r *http.Request) error {
	if err := a.trash.PurgeTicket(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
