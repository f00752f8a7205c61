package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// listParams are the query parameters of the list endpoint.
var listParams = []string{"status", "priority", "assignee_id", "page_size", "after", "sort_by", "sort_order"}

// parseListQuery validates the list endpoint's query string.
func parseListQuery(values url.Values) (helpdesk.ListQuery, error) {
	q := helpdesk.ListQuery{SortBy: helpdesk.SortCreatedAt, Order: helpdesk.Desc, PageSize: helpdesk.DefaultPageSize}
	var problems helpdesk.Problems
	for _, k := range sortedKeys(values) {
		if !slices.Contains(listParams, k) {
			problems.Add(k, "is not a query parameter of this endpoint")
		} else if len(values[k]) > 1 {
			problems.Add(k, "must be given at most once")
		}
	}
	get := func(k string) (string, bool) {
		v, ok := values[k]
		if !ok || len(v) != 1 {
			return "", false
		}
		return v[0], true
	}
	if v, ok := get("status"); ok {
		if q.Filter.Status = helpdesk.Status(v); !q.Filter.Status.Valid() {
			problems.Add("status", "must be one of new, open, pending, resolved, closed")
		}
	}
	if v, ok := get("priority"); ok {
		if q.Filter.Priority = helpdesk.Priority(v); !q.Filter.Priority.Valid() {
			problems.Add("priority", "must be one of low, normal, high, urgent")
		}
	}
	if v, ok := get("assignee_id"); ok {
		if q.Filter.AssigneeID = v; !helpdesk.ValidAssigneeID(v) {
			problems.Add("assignee_id", `must be an agent id such as "usr_abc123"`)
		}
	}
	if v, ok := get("page_size"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > helpdesk.MaxPageSize || strconv.Itoa(n) != v {
			problems.Add("page_size", "must be a whole number from 1 to %d", helpdesk.MaxPageSize)
		}
		q.PageSize = n
	}
	if v, ok := get("sort_by"); ok {
		if q.SortBy = helpdesk.SortBy(v); !slices.Contains(helpdesk.SortFields, q.SortBy) {
			problems.Add("sort_by", "must be one of created_at, updated_at, status, priority")
		}
	}
	if v, ok := get("sort_order"); ok {
		if q.Order = helpdesk.Order(v); q.Order != helpdesk.Asc && q.Order != helpdesk.Desc {
			problems.Add("sort_order", "must be asc or desc")
		}
	}
	if err := problems.Err(); err != nil {
		return q, err
	}
	if v, ok := values["after"]; ok {
		if v[0] == "" {
			return q, helpdesk.Errorf(helpdesk.CodeBadRequest, "The cursor is empty; omit \"after\" for the first page.")
		}
		q.After = v[0]
	}
	return q, nil
}

func (a *api) listTickets(w http.ResponseWriter, r *http.Request) error {
	values := r.URL.Query()
	q, err := parseListQuery(values)
	if err != nil {
		return err
	}
	page, err := a.svc.ListTickets(r.Context(), q)
	if err != nil {
		return err
	}
	body := listBody{Tickets: make([]ticketJSON, len(page.Tickets)), Meta: listMeta{PageSize: q.PageSize, HasMore: page.Next != ""}}
	for i, t := range page.Tickets {
		body.Tickets[i] = toTicketJSON(t)
	}
	if page.Next != "" {
		values.Set("after", page.Next)
		next := info(r).outPath + BasePath + "/tickets?" + values.Encode()
		body.Links.Next = &next
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (a *api) getTicket(w http.ResponseWriter, r *http.Request) error {
	t, err := a.svc.Ticket(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ticketBody{toTicketJSON(t)})
	return nil
}

func (a *api) createTicket(w http.ResponseWriter, r *http.Request) error {
	var problems helpdesk.Problems
	fields, err := readObject(w, r, "ticket", &problems)
	if err != nil {
		return err
	}
	p := decodeTicketPatch(fields, &problems)
	t, err := a.svc.CreateTicket(r.Context(), p, problems)
	if err != nil {
		return err
	}
	w.Header().Set("Location", info(r).outPath+BasePath+"/tickets/"+t.ID)
	writeJSON(w, http.StatusCreated, ticketBody{toTicketJSON(t)})
	return nil
}

func (a *api) updateTicket(w http.ResponseWriter, r *http.Request) error {
	var problems helpdesk.Problems
	fields, err := readObject(w, r, "ticket", &problems)
	if err != nil {
		return err
	}
	p := decodeTicketPatch(fields, &problems)
	t, err := a.svc.UpdateTicket(r.Context(), r.PathValue("id"), p, problems)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ticketBody{toTicketJSON(t)})
	return nil
}

func (a *api) deleteTicket(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteTicket(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
