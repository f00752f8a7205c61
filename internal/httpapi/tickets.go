package httpapi

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
)

// listParams are the query parameters of the list endpoint.
var listParams = []string{"status", "priority", "assignee_id", "page_size", "after", "sort_by", "sort_order"}

// parseListQuery validates the list endpoint's query string.
func parseListQuery(values url.Values) (helpdesk.ListQuery, error) {
	q := helpdesk.ListQuery{SortBy: helpdesk.SortCreatedAt, Order: helpdesk.Desc, PageSize: helpdesk.DefaultPageSize}
	var problems helpdesk.Problems
	checkParams(values, listParams, &problems)
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
	q.PageSize = pageSize(values, helpdesk.DefaultPageSize, helpdesk.MaxPageSize, &problems)
	if v, ok := get("sort_by"); ok {
		if q.SortBy = helpdesk.SortBy(v); !slices.Contains(helpdesk.SortFields, q.SortBy) {
			problems.Add("sort_by", "must be one of created_at, updated_at, status, priority")
		}
	}
	q.Order = sortOrder(values, helpdesk.Desc, &problems)
	if err := problems.Err(); err != nil {
		return q, err
	}
	var err error
	q.After, err = cursorParam(values)
	return q, err
}

// queryValues decodes a request's query string. A pair that does not
// decode (a bad percent-escape, a semicolon) is refused rather than
// skipped, as url.URL.Query would skip it: a filter dropped silently would
// list more than was asked for.
func queryValues(raw string) (url.Values, error) {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return nil, helpdesk.Errorf(helpdesk.CodeBadRequest, "The query string is malformed; separate parameters with \"&\" and percent-encode reserved characters.")
	}
	return values, nil
}

// checkParams records a problem for each parameter that is unknown or
// given more than once.
func checkParams(values url.Values, known []string, problems *helpdesk.Problems) {
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if !slices.Contains(known, k) {
			problems.Add(k, "is not a query parameter of this endpoint")
		} else if len(values[k]) > 1 {
			problems.Add(k, "must be given at most once")
		}
	}
}

// pageSize parses page_size, a whole number from 1 to limit, defaulting
// to def.
func pageSize(values url.Values, def, limit int, problems *helpdesk.Problems) int {
	v, ok := values["page_size"]
	if !ok || len(v) != 1 {
		return def
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < 1 || n > limit || strconv.Itoa(n) != v[0] {
		problems.Add("page_size", "must be a whole number from 1 to %d", limit)
	}
	return n
}

// sortOrder parses sort_order, defaulting to def.
func sortOrder(values url.Values, def helpdesk.Order, problems *helpdesk.Problems) helpdesk.Order {
	v, ok := values["sort_order"]
	if !ok || len(v) != 1 {
		return def
	}
	if o := helpdesk.Order(v[0]); o == helpdesk.Asc || o == helpdesk.Desc {
		return o
	}
	problems.Add("sort_order", "must be asc or desc")
	return helpdesk.Order(v[0])
}

// cursorParam returns the after parameter; present but empty is a bad
// cursor.
func cursorParam(values url.Values) (string, error) {
	v, ok := values["after"]
	if ok && v[0] == "" {
		return "", helpdesk.Errorf(helpdesk.CodeBadRequest, "The cursor is empty; omit \"after\" for the first page.")
	}
	if !ok {
		return "", nil
	}
	return v[0], nil
}

// pageParams are the query parameters of a list that only pages.
var pageParams = []string{"page_size", "after"}

// parsePage validates the query string of a list that only pages (the
// trash, the API keys, a subscription's delivery log): page_size (the
// default page size unless given) and the cursor after, nothing else.
func parsePage(values url.Values) (size int, after string, err error) {
	var problems helpdesk.Problems
	checkParams(values, pageParams, &problems)
	size = pageSize(values, helpdesk.DefaultPageSize, helpdesk.MaxPageSize, &problems)
	if err := problems.Err(); err != nil {
		return 0, "", err
	}
	after, err = cursorParam(values)
	return size, after, err
}

// nextLink is the link to the next page (pageLink); nil when there is no
// next page.
func nextLink(r *http.Request, values url.Values, path, cursor string) *string {
	if cursor == "" {
		return nil
	}
	link := pageLink(r, values, path, cursor)
	return &link
}

// pageLink is the link to the page after cursor: the request's own path
// prefix, its query parameters and the cursor.
func pageLink(r *http.Request, values url.Values, path, cursor string) string {
	values.Set("after", cursor)
	return info(r).outPath + BasePath + path + "?" + values.Encode()
}

func (a *api) listTickets(w http.ResponseWriter, r *http.Request) error {
	values, err := queryValues(r.URL.RawQuery)
	if err != nil {
		return err
	}
	q, err := parseListQuery(values)
	if err != nil {
		return err
	}
	page, err := a.svc.ListTickets(r.Context(), q)
	if err != nil {
		return err
	}
	body := listBody{Tickets: make([]events.Ticket, len(page.Tickets)), Meta: listMeta{PageSize: q.PageSize, HasMore: page.Next != ""}}
	for i, t := range page.Tickets {
		body.Tickets[i] = view.Ticket(t)
	}
	body.Links.Next = nextLink(r, values, "/tickets", page.Next)
	writeJSON(w, http.StatusOK, body)
	return nil
}

// ticketReply is the answer with a ticket, with its ETag.
func ticketReply(r *http.Request, status int, t *helpdesk.Ticket) reply {
	body := ticketBody{view.Ticket(t)}
	var rp reply
	if status == http.StatusCreated {
		rp = created(r, "/tickets/"+t.ID, body)
	} else {
		rp = jsonReply(status, body)
	}
	rp.header["ETag"] = etag(t.Version)
	return rp
}

func (a *api) getTicket(w http.ResponseWriter, r *http.Request) error {
	t, err := a.svc.Ticket(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ticketReply(r, http.StatusOK, t).write(w)
	return nil
}

func (a *api) createTicket(w http.ResponseWriter, r *http.Request) error {
	return create(a, w, r, "ticket", decodeTicketPatch, a.svc.CreateTicket,
		func(t *helpdesk.Ticket) reply { return ticketReply(r, http.StatusCreated, t) })
}

func (a *api) updateTicket(w http.ResponseWriter, r *http.Request) error {
	pre, err := ifMatch(r.Header)
	if err != nil {
		return err
	}
	var problems helpdesk.Problems
	fields, err := readObject(w, r, "ticket", &problems)
	if err != nil {
		return err
	}
	p := decodeTicketPatch(fields, &problems)
	t, err := a.svc.UpdateTicket(r.Context(), r.PathValue("id"), p, problems, pre)
	if err != nil {
		return err
	}
	ticketReply(r, http.StatusOK, t).write(w)
	return nil
}

func (a *api) deleteTicket(w http.ResponseWriter, r *http.Request) error {
	pre, err := ifMatch(r.Header)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteTicket(r.Context(), r.PathValue("id"), pre); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
