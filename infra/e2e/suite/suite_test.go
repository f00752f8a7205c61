package suite_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/infra/e2e"
)

// The tests run in the order of this file. TestWebhooks comes first: the
// dispatch function keeps the subscriptions it read for 30 s, as deployed,
// so subscriptions made before any ticket changes are seen at once
// (Stack.AwaitSubscriptions waits out the cache otherwise).

var (
	ticketID   = regexp.MustCompile(`^tkt_[a-z2-7]{24}$`)
	timeFormat = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// TestWebhooks subscribes receivers through the API, changes a ticket
// through the API and receives the signed events through DynamoDB Local's
// stream and the dispatch binary; a receiver that fails once receives the
// same event again through the retry binary.
func TestWebhooks(t *testing.T) {
	stack := needLocal(t, "the webhook receivers listen on 127.0.0.1, which a deployed stack cannot reach")
	all := newReceiver(t, func(int) int { return http.StatusNoContent })
	flaky := newReceiver(t, func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	_, allSecret := subscribe(t, all.srv.URL+"/hooks", events.Types...)
	flakyID, flakySecret := subscribe(t, flaky.srv.URL, events.TicketCreated)
	if err := stack.AwaitSubscriptions(t.Context()); err != nil {
		t.Fatal(err)
	}

	tk := createTicket(t, map[string]any{"subject": "Webhooks end to end", "tags": []string{"e2e"}})
	id := tk["id"].(string)
	put := func(body string) {
		t.Helper()
		do(t, "PUT", api("/tickets/"+id), target.keys.Write, body).want(t, http.StatusOK)
	}
	put(`{"ticket":{"status":"open"}}`)
	put(`{"ticket":{"status":"open"}}`) // changes nothing: sends nothing
	put(`{"ticket":{"assigneeId":"usr_e2e_hooks"}}`)
	do(t, "DELETE", api("/tickets/"+id), target.keys.Write, nil).want(t, http.StatusNoContent)

	t.Run("SignedDeliveries", func(t *testing.T) {
		byType := map[string][]events.Event{}
		ids := map[string]bool{}
		for _, d := range all.wait(t, 5, 10*time.Second) {
			ev := verify(t, allSecret, d)
			if ev.Data.Ticket.ID != id {
				t.Fatalf("event %s for ticket %s, want %s", ev.Type, ev.Data.Ticket.ID, id)
			}
			ids[ev.ID] = true
			byType[ev.Type] = append(byType[ev.Type], ev)
		}
		counts := fmt.Sprint(len(byType[events.TicketCreated]), len(byType[events.TicketUpdated]), len(byType[events.TicketAssignmentChanged]), len(byType[events.TicketDeleted]))
		if counts != "1 2 1 1" || len(ids) != 5 {
			t.Fatalf("created, updated, assignment.changed, deleted: %s (%d ids), want 1 2 1 1 (5)", counts, len(ids))
		}
		if c := byType[events.TicketCreated][0].Data.Ticket; c.Subject != "Webhooks end to end" || c.Status != "new" || fmt.Sprint(c.Tags) != "[e2e]" {
			t.Fatalf("created event carries %+v", c)
		}
		var prev []string
		for _, ev := range byType[events.TicketUpdated] {
			prev = append(prev, previous(ev))
		}
		slices.Sort(prev)
		if strings.Join(prev, " ") != "map[assigneeId:<nil>] map[status:new]" {
			t.Fatalf("previous values of the updates: %v", prev)
		}
		if d := byType[events.TicketDeleted][0].Data.Ticket; d.Status != "open" || d.AssigneeID == nil || *d.AssigneeID != "usr_e2e_hooks" {
			t.Fatalf("deleted event carries %+v, want the last state", d)
		}
	})

	var eventID string
	t.Run("RetryWithTheSameID", func(t *testing.T) {
		got := flaky.wait(t, 2, 12*time.Second)
		first, second := got[0], got[1]
		if first.status != http.StatusInternalServerError || second.status != http.StatusOK {
			t.Fatalf("answers %d, %d", first.status, second.status)
		}
		ev1, ev2 := verify(t, flakySecret, first), verify(t, flakySecret, second)
		if ev1.ID != ev2.ID || ev1.Type != events.TicketCreated || ev1.Data.Ticket.ID != id {
			t.Fatalf("the retry is %s %s, the first attempt %s %s", ev2.Type, ev2.ID, ev1.Type, ev1.ID)
		}
		if gap := second.at.Sub(first.at); gap < 4*time.Second {
			t.Fatalf("the retry came %s after the first attempt, before the 5 s schedule (-10%%)", gap)
		}
		eventID = ev1.ID
	})
	if eventID == "" {
		t.FailNow()
	}

	t.Run("DeliveryLog", func(t *testing.T) {
		var entries []any
		deadline := time.Now().Add(5 * time.Second)
		for len(entries) < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("delivery log has %d entries, want 2", len(entries))
			}
			time.Sleep(100 * time.Millisecond)
			res := do(t, "GET", api("/webhooks/"+flakyID+"/deliveries"), target.keys.Read, nil).want(t, http.StatusOK)
			entries, _ = res.body["deliveries"].([]any)
		}
		newest, older := entries[0].(map[string]any), entries[1].(map[string]any)
		if newest["attempt"] != 2.0 || newest["statusCode"] != 200.0 || newest["eventId"] != eventID {
			t.Fatalf("newest entry %v", newest)
		}
		if older["attempt"] != 1.0 || older["statusCode"] != 500.0 || older["eventId"] != eventID || older["error"] == "" {
			t.Fatalf("older entry %v", older)
		}
		// One entry a page: the second page comes through the cursor.
		first := do(t, "GET", api("/webhooks/"+flakyID+"/deliveries?page_size=1"), target.keys.Read, nil).want(t, http.StatusOK)
		next, _ := first.object(t, "links")["next"].(string)
		if page, _ := first.body["deliveries"].([]any); len(page) != 1 || first.object(t, "meta")["hasMore"] != true || next == "" {
			t.Fatalf("first page of the log: %s", first.raw)
		}
		second := do(t, "GET", follow(t, next), target.keys.Read, nil).want(t, http.StatusOK)
		if page, _ := second.body["deliveries"].([]any); len(page) != 1 || page[0].(map[string]any)["attempt"] != 1.0 {
			t.Fatalf("second page of the log: %s", second.raw)
		}
	})

	t.Run("Replay", func(t *testing.T) {
		do(t, "POST", api("/webhooks/"+flakyID+"/deliveries/"+eventID+"/replay"), target.keys.Write, nil).wantError(t, http.StatusForbidden, "FORBIDDEN")
		do(t, "POST", api("/webhooks/"+flakyID+"/deliveries/"+eventID+"/replay"), target.keys.Admin, nil).want(t, http.StatusAccepted)
		got := flaky.wait(t, 3, 5*time.Second)
		if ev := verify(t, flakySecret, got[2]); ev.ID != eventID {
			t.Fatalf("the replay has webhook-id %s, want %s", ev.ID, eventID)
		}
	})

	t.Run("NothingElse", func(t *testing.T) {
		// Seconds have passed since the last change: a delivery for the
		// no-op PUT would be here by now.
		if n := len(all.deliveries()); n != 5 {
			t.Fatalf("%d deliveries, want 5 (the no-op PUT must send nothing)", n)
		}
		if n := len(flaky.deliveries()); n != 3 {
			t.Fatalf("the ticket.created-only subscription got %d deliveries, want 3 (attempt, retry, replay)", n)
		}
	})
}

// TestTicketLifecycle creates, reads, updates (partially, without change,
// clearing) and deletes a ticket.
func TestTicketLifecycle(t *testing.T) {
	needTarget(t)
	res := do(t, "POST", api("/tickets"), target.keys.Write, `{"ticket": {"subject": "  E2E: cannot log in  ", "priority": "high", "requesterEmail": "customer@example.com"}}`).
		want(t, http.StatusCreated)
	created := res.object(t, "ticket")
	id, _ := created["id"].(string)
	if !ticketID.MatchString(id) {
		t.Fatalf("id %q", id)
	}
	t.Cleanup(func() {
		req, _ := http.NewRequest("DELETE", api("/tickets/"+id), nil)
		req.Header.Set("Authorization", "Bearer "+target.keys.Write)
		if res, err := checked(t).Do(req); err == nil {
			res.Body.Close()
		}
	})

	t.Run("Create", func(t *testing.T) {
		base, _ := url.Parse(target.api)
		if loc := res.header.Get("Location"); loc != base.Path+"/tickets/"+id {
			t.Errorf("Location %q, want %s/tickets/%s", loc, base.Path, id)
		}
		if ct := res.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		gw := res.header.Get("Apigw-Requestid")
		if (gw == "" && target.local != nil) || (gw != "" && res.header.Get("X-Request-Id") != gw) {
			t.Errorf("X-Request-Id %q, apigw-requestid %q: the function must answer with API Gateway's request id", res.header.Get("X-Request-Id"), gw)
		}
		want := map[string]any{"subject": "E2E: cannot log in", "status": "new", "priority": "high", "type": "question",
			"assigneeId": nil, "requesterEmail": "customer@example.com", "requesterName": nil}
		for k, v := range want {
			if created[k] != v {
				t.Errorf("%s = %v, want %v", k, created[k], v)
			}
		}
		if fmt.Sprint(created["tags"], created["customFields"]) != "[] []" {
			t.Errorf("tags %v, customFields %v, want empty lists", created["tags"], created["customFields"])
		}
		if c, _ := created["createdAt"].(string); !timeFormat.MatchString(c) || created["updatedAt"] != c {
			t.Errorf("createdAt %v, updatedAt %v", created["createdAt"], created["updatedAt"])
		}
	})
	t.Run("Get", func(t *testing.T) {
		got := do(t, "GET", api("/tickets/"+id), target.keys.Read, nil).want(t, http.StatusOK).object(t, "ticket")
		if fmt.Sprint(got) != fmt.Sprint(created) {
			t.Fatalf("got %v, want %v", got, created)
		}
	})
	var updated map[string]any
	t.Run("PartialUpdate", func(t *testing.T) {
		time.Sleep(2 * time.Millisecond) // updatedAt has millisecond precision
		updated = do(t, "PUT", api("/tickets/"+id), target.keys.Write, `{"ticket": {"status": "pending", "assigneeId": "usr_e2e", "tags": ["b", "a", " b"]}}`).
			want(t, http.StatusOK).object(t, "ticket")
		if updated["status"] != "pending" || updated["priority"] != "high" || updated["assigneeId"] != "usr_e2e" || fmt.Sprint(updated["tags"]) != "[b a]" ||
			updated["requesterEmail"] != "customer@example.com" || updated["createdAt"] != created["createdAt"] || updated["updatedAt"] == created["updatedAt"] {
			t.Fatalf("updated %v", updated)
		}
	})
	t.Run("NoOpUpdate", func(t *testing.T) {
		got := do(t, "PUT", api("/tickets/"+id), target.keys.Write, `{"ticket": {"status": "pending", "tags": ["b", "a"]}}`).want(t, http.StatusOK).object(t, "ticket")
		if got["updatedAt"] != updated["updatedAt"] || fmt.Sprint(got) != fmt.Sprint(updated) {
			t.Fatalf("a PUT that changes nothing changed %v into %v", updated, got)
		}
	})
	t.Run("NullClears", func(t *testing.T) {
		got := do(t, "PUT", api("/tickets/"+id), target.keys.Write, `{"ticket": {"assigneeId": null, "requesterEmail": null}}`).want(t, http.StatusOK).object(t, "ticket")
		if got["assigneeId"] != nil || got["requesterEmail"] != nil || got["status"] != "pending" {
			t.Fatalf("after clearing: %v", got)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		res := do(t, "DELETE", api("/tickets/"+id), target.keys.Write, nil).want(t, http.StatusNoContent)
		if len(res.raw) != 0 {
			t.Fatalf("204 with a body: %q", res.raw)
		}
		do(t, "GET", api("/tickets/"+id), target.keys.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
		do(t, "PUT", api("/tickets/"+id), target.keys.Write, `{"ticket": {"status": "open"}}`).wantError(t, http.StatusNotFound, "NOT_FOUND")
		do(t, "DELETE", api("/tickets/"+id), target.keys.Write, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
	})
}

var (
	priorityRank = map[string]int{"low": 0, "normal": 1, "high": 2, "urgent": 3}
	statusRank   = map[string]int{"new": 0, "open": 1, "pending": 2, "resolved": 3, "closed": 4}
)

// TestListTickets filters, sorts and pages through tickets of an assignee
// of this run, following links.next as given.
func TestListTickets(t *testing.T) {
	needTarget(t)
	assignee := "usr_e2e-" + unique()
	specs := [][2]string{{"new", "low"}, {"open", "urgent"}, {"pending", "normal"}, {"resolved", "high"}, {"closed", "low"}, {"open", "urgent"}, {"new", "normal"}}
	created := map[string]map[string]any{}
	for i, s := range specs {
		tk := createTicket(t, map[string]any{"subject": fmt.Sprint("list ", i), "status": s[0], "priority": s[1], "assigneeId": assignee})
		created[tk["id"].(string)] = tk
	}

	// walk follows links.next from query and returns the tickets and the
	// next links it followed.
	walk := func(t *testing.T, query string) ([]map[string]any, []string) {
		t.Helper()
		var tickets []map[string]any
		var links []string
		next := api("/tickets?" + query)
		for pages := 1; ; pages++ {
			if pages > 20 {
				t.Fatal("more than 20 pages")
			}
			res := do(t, "GET", next, target.keys.Read, nil).want(t, http.StatusOK)
			page, _ := res.body["tickets"].([]any)
			for _, tk := range page {
				tickets = append(tickets, tk.(map[string]any))
			}
			meta, links0 := res.object(t, "meta"), res.object(t, "links")
			link, hasLink := links0["next"].(string)
			if meta["hasMore"] != hasLink || (hasLink && len(page) == 0) {
				t.Fatalf("page %d: hasMore %v, next %v, %d tickets", pages, meta["hasMore"], links0["next"], len(page))
			}
			if !hasLink {
				return tickets, links
			}
			links = append(links, link)
			next = follow(t, link)
		}
	}
	ids := func(tickets []map[string]any) []string {
		var out []string
		for _, tk := range tickets {
			out = append(out, tk["id"].(string))
		}
		return out
	}

	var cursorLink string
	t.Run("SortByPriorityAcrossPages", func(t *testing.T) {
		query := "assignee_id=" + assignee + "&sort_by=priority&sort_order=asc&page_size=2"
		tickets, links := walk(t, query)
		if len(links) != 3 || len(tickets) != len(specs) {
			t.Fatalf("%d tickets over %d next links, want %d over 3", len(tickets), len(links), len(specs))
		}
		for _, link := range links {
			u, err := url.Parse(link)
			if err != nil || !strings.HasSuffix(u.Path, basePath+"/tickets") || u.Query().Get("after") == "" {
				t.Fatalf("next link %q", link)
			}
			for k, v := range map[string]string{"assignee_id": assignee, "sort_by": "priority", "sort_order": "asc", "page_size": "2"} {
				if u.Query().Get(k) != v {
					t.Fatalf("next link %q lost %s=%s", link, k, v)
				}
			}
			if strings.Contains(link, "tkt_") {
				t.Fatalf("the cursor shows an id: %s", link)
			}
		}
		cursorLink = links[0]
		got := ids(tickets)
		want := slices.Collect(maps.Keys(created))
		if !sameSet(got, want) {
			t.Fatalf("walked %v, want %v", got, want)
		}
		for i := 1; i < len(tickets); i++ {
			a, b := tickets[i-1], tickets[i]
			ka := fmt.Sprintf("%d %s %s", priorityRank[a["priority"].(string)], a["createdAt"], a["id"])
			kb := fmt.Sprintf("%d %s %s", priorityRank[b["priority"].(string)], b["createdAt"], b["id"])
			if ka > kb {
				t.Fatalf("out of order at %d: %s before %s", i, ka, kb)
			}
		}
	})
	t.Run("DefaultOrderIsNewestFirst", func(t *testing.T) {
		res := do(t, "GET", api("/tickets?assignee_id="+assignee), target.keys.Read, nil).want(t, http.StatusOK)
		if res.object(t, "meta")["pageSize"] != 25.0 || res.object(t, "links")["next"] != nil {
			t.Fatalf("meta %v links %v", res.body["meta"], res.body["links"])
		}
		var keys []string
		for _, tk := range res.body["tickets"].([]any) {
			m := tk.(map[string]any)
			keys = append(keys, fmt.Sprint(m["createdAt"], " ", m["id"]))
		}
		if len(keys) != len(specs) || !slices.IsSortedFunc(keys, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Fatalf("default order: %v", keys)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		for query, want := range map[string]int{
			"status=open":                                   2,
			"priority=urgent":                               2,
			"status=new&priority=low":                       1,
			"status=new&priority=normal":                    1,
			"status=resolved&sort_by=status&sort_order=asc": 1,
			"priority=high&status=closed":                   0,
		} {
			tickets, _ := walk(t, query+"&assignee_id="+assignee+"&page_size=1")
			if len(tickets) != want {
				t.Fatalf("%s: %d tickets, want %d", query, len(tickets), want)
			}
			q, _ := url.ParseQuery(query)
			for _, tk := range tickets {
				for _, field := range []string{"status", "priority"} {
					if v := q.Get(field); v != "" && tk[field] != v {
						t.Fatalf("%s: ticket %v", query, tk)
					}
				}
				if _, ok := statusRank[tk["status"].(string)]; !ok || tk["assigneeId"] != assignee {
					t.Fatalf("%s: ticket %v", query, tk)
				}
			}
		}
	})
	t.Run("BadQueries", func(t *testing.T) {
		do(t, "GET", api("/tickets?page_size=0"), target.keys.Read, nil).wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "page_size")
		do(t, "GET", api("/tickets?limit=5&sort_by=subject"), target.keys.Read, nil).wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "limit", "sort_by")
		do(t, "GET", api("/tickets?after=garbage"), target.keys.Read, nil).wantError(t, http.StatusBadRequest, "BAD_REQUEST")
		if cursorLink == "" {
			t.Skip("no cursor from the walk")
		}
		u, _ := url.Parse(cursorLink)
		after := url.QueryEscape(u.Query().Get("after"))
		do(t, "GET", api("/tickets?assignee_id="+assignee+"&sort_by=priority&sort_order=desc&after="+after), target.keys.Read, nil).
			wantError(t, http.StatusBadRequest, "BAD_REQUEST")
	})
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// TestErrors checks the error statuses as a client meets them through the
// HTTP API: the functions' JSON errors, also for what matches no route
// (the $default route's function).
func TestErrors(t *testing.T) {
	needTarget(t)
	id := createTicket(t, map[string]any{"subject": "errors"})["id"].(string)
	k := target.keys
	t.Run("400BadJSON", func(t *testing.T) {
		do(t, "POST", api("/tickets"), k.Write, `{"ticket": {"subject": "x"`).wantError(t, http.StatusBadRequest, "BAD_REQUEST")
		do(t, "PUT", api("/tickets/"+id), k.Write, `["ticket"]`).wantError(t, http.StatusBadRequest, "BAD_REQUEST")
	})
	t.Run("400BinaryBody", func(t *testing.T) {
		// Not UTF-8: the event carries it base64-encoded.
		do(t, "POST", api("/tickets"), k.Write, []byte{0xff, 0xfe, 0x00, '{', 0x80}).wantError(t, http.StatusBadRequest, "BAD_REQUEST")
	})
	t.Run("401NoKey", func(t *testing.T) {
		res := do(t, "GET", api("/tickets"), "", nil)
		res.wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
		if !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("WWW-Authenticate %q", res.header.Get("WWW-Authenticate"))
		}
	})
	t.Run("401UnknownKey", func(t *testing.T) {
		do(t, "GET", api("/tickets/"+id), "hd_"+strings.Repeat("A", 43), nil).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
	})
	t.Run("403ReadKeyWriting", func(t *testing.T) {
		do(t, "POST", api("/tickets"), k.Read, `{"ticket": {"subject": "nope"}}`).wantError(t, http.StatusForbidden, "FORBIDDEN")
		do(t, "DELETE", api("/tickets/"+id), k.Read, nil).wantError(t, http.StatusForbidden, "FORBIDDEN")
		do(t, "POST", api("/custom_fields"), k.Write, `{"customField": {"name": "nope", "type": "text"}}`).wantError(t, http.StatusForbidden, "FORBIDDEN")
	})
	t.Run("404UnknownID", func(t *testing.T) {
		do(t, "GET", api("/tickets/tkt_"+strings.Repeat("a", 24)), k.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
		do(t, "GET", api("/tickets/not-a-ticket"), k.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
		do(t, "GET", api("/custom_fields/cf_"+strings.Repeat("a", 24)), k.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
	})
	t.Run("404UnknownRoute", func(t *testing.T) {
		// No route matches: the $default route's function answers, as
		// JSON, never API Gateway's {"message":"Not Found"}; unclean
		// paths too, never a redirect.
		for _, u := range []string{api("/ticket"), api("/tickets/"), api("/tickets/" + id + "/comment"), api("/tickets/" + id + "/comments/"),
			follow(t, "/"), follow(t, "/helpdesk/api/v2/tickets"), api("//tickets"), api("/./tickets"), api("/tickets//" + id)} {
			do(t, "GET", u, k.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
		}
	})
	t.Run("405OtherMethodOnAKnownPath", func(t *testing.T) {
		// The HTTP API has a route per method and path; no route matches
		// PATCH /tickets/{id}, so $default takes it to the docs function,
		// which answers 405 with the methods of the whole route table.
		for _, c := range []struct{ method, path, allow string }{
			{"PATCH", "/tickets/" + id, "GET, HEAD, PUT, DELETE"},
			{"POST", "/tickets/" + id, "GET, HEAD, PUT, DELETE"},
			{"DELETE", "/tickets", "GET, HEAD, POST"},
			{"PUT", "/tickets/" + id + "/comments", "GET, HEAD, POST"},
			{"HEAD", "/tickets/" + id + "/comments/cmt_x/redact", "POST"},
		} {
			res := do(t, c.method, api(c.path), k.Write, nil)
			if c.method == "HEAD" {
				res.want(t, http.StatusMethodNotAllowed)
			} else {
				res.wantError(t, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
			}
			if allow := res.header.Get("Allow"); allow != c.allow {
				t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, allow, c.allow)
			}
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		// Deployed, a HEAD route beside each GET route; the function
		// answers without a body.
		res := do(t, "HEAD", api("/tickets/"+id), k.Read, nil).want(t, http.StatusOK)
		if len(res.raw) != 0 || res.header.Get("ETag") == "" {
			t.Fatalf("HEAD: %v %q", res.header, res.raw)
		}
		do(t, "HEAD", api("/tickets"), "", nil).want(t, http.StatusUnauthorized)
	})
	t.Run("400RepeatedKey", func(t *testing.T) {
		res := do(t, "POST", api("/tickets"), k.Write, `{"ticket": {"subject": "a", "subject": "b"}}`)
		res.wantError(t, http.StatusBadRequest, "BAD_REQUEST")
		if msg, _ := res.body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, `"ticket.subject"`) {
			t.Fatalf("message %q does not name the key", msg)
		}
	})
	t.Run("ByteOrderMark", func(t *testing.T) {
		do(t, "POST", api("/tickets"), k.Write, "\xef\xbb\xbf{\"ticket\": {\"subject\": \"bom\"}}").want(t, http.StatusCreated)
	})
	t.Run("413OverMaxBody", func(t *testing.T) {
		big := `{"ticket": {"subject": "` + strings.Repeat("a", 256<<10) + `"}}`
		do(t, "POST", api("/tickets"), k.Write, big).wantError(t, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
		do(t, "PUT", api("/tickets/"+id), k.Write, big).wantError(t, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
	})
	t.Run("422Details", func(t *testing.T) {
		do(t, "POST", api("/tickets"), k.Write, `{"ticket": {"subject": " ", "priority": "extreme", "color": "red", "tags": "x"}}`).
			wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "ticket.subject", "ticket.priority", "ticket.color", "ticket.tags")
		do(t, "PUT", api("/tickets/"+id), k.Write, `{"ticket": {"status": "done", "createdAt": "2026-01-01T00:00:00.000Z"}}`).
			wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "ticket.status", "ticket.createdAt")
		got := do(t, "GET", api("/tickets/"+id), k.Read, nil).want(t, http.StatusOK).object(t, "ticket")
		if got["status"] != "new" {
			t.Fatalf("a rejected PUT changed the ticket: %v", got)
		}
	})
}

// Test405InsideTheFunction invokes the update binary directly with a PATCH
// event, as a route the deployed API does not have would send it: the
// function answers its own 405 with Allow, the methods the whole route
// table takes on the path.
func Test405InsideTheFunction(t *testing.T) {
	stack := needLocal(t, "it invokes a function directly, under the emulator")
	ev := lambdaevents.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "ANY " + basePath + "/tickets/{id}",
		RawPath: basePath + "/tickets/tkt_" + strings.Repeat("a", 24),
		Headers: map[string]string{"authorization": "Bearer " + target.keys.Write, "content-type": "application/json"},
		Body:    `{"ticket": {}}`,
		RequestContext: lambdaevents.APIGatewayV2HTTPRequestContext{
			RouteKey: "ANY " + basePath + "/tickets/{id}", Stage: "$default", RequestID: "e2e405", DomainName: "127.0.0.1",
			HTTP: lambdaevents.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "PATCH", Path: basePath + "/tickets/tkt_" + strings.Repeat("a", 24), SourceIP: "127.0.0.1"},
		},
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	result, err := stack.Invoke(t.Context(), "update", payload)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e2e.ParseResponse(result)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal([]byte(res.Body), &body)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Headers["Allow"] != "GET, HEAD, PUT, DELETE" || body.Error.Code != "METHOD_NOT_ALLOWED" {
		t.Fatalf("%d %v %s", res.StatusCode, res.Headers, res.Body)
	}
}

// TestCustomFields defines a field, reads it with the read key, changes
// it, uses it in a ticket and deletes it.
func TestCustomFields(t *testing.T) {
	needTarget(t)
	k := target.keys
	name := "E2E Plan " + unique()
	res := do(t, "POST", api("/custom_fields"), k.Admin, map[string]any{"customField": map[string]any{"name": name, "type": "dropdown", "options": []string{"Pro", "Enterprise"}}}).
		want(t, http.StatusCreated)
	field := res.object(t, "customField")
	id, _ := field["id"].(string)
	if !strings.HasPrefix(id, "cf_") || field["name"] != name || fmt.Sprint(field["options"]) != "[Pro Enterprise]" {
		t.Fatalf("created %s", res.raw)
	}
	deleted := false
	t.Cleanup(func() {
		if !deleted {
			req, _ := http.NewRequest("DELETE", api("/custom_fields/"+id), nil)
			req.Header.Set("Authorization", "Bearer "+k.Admin)
			if res, err := checked(t).Do(req); err == nil {
				res.Body.Close()
			}
		}
	})

	t.Run("Read", func(t *testing.T) {
		list := do(t, "GET", api("/custom_fields"), k.Read, nil).want(t, http.StatusOK)
		found := false
		for _, f := range list.body["customFields"].([]any) {
			found = found || f.(map[string]any)["id"] == id
		}
		if !found {
			t.Fatalf("%s not listed: %.500s", id, list.raw)
		}
		got := do(t, "GET", api("/custom_fields/"+id), k.Read, nil).want(t, http.StatusOK).object(t, "customField")
		if fmt.Sprint(got) != fmt.Sprint(field) {
			t.Fatalf("got %v, want %v", got, field)
		}
	})
	t.Run("Update", func(t *testing.T) {
		got := do(t, "PUT", api("/custom_fields/"+id), k.Admin, `{"customField": {"options": ["Pro", "Enterprise", "Free"]}}`).want(t, http.StatusOK).object(t, "customField")
		if fmt.Sprint(got["options"]) != "[Pro Enterprise Free]" {
			t.Fatalf("updated %v", got)
		}
		do(t, "POST", api("/custom_fields"), k.Admin, map[string]any{"customField": map[string]any{"name": strings.ToUpper(name), "type": "text"}}).
			wantError(t, http.StatusConflict, "CONFLICT")
	})
	t.Run("InATicket", func(t *testing.T) {
		tk := createTicket(t, map[string]any{"subject": "custom fields", "customFields": []any{map[string]any{"id": id, "value": "Enterprise"}}})
		if fmt.Sprint(tk["customFields"]) != fmt.Sprintf("[map[id:%s value:Enterprise]]", id) {
			t.Fatalf("customFields %v", tk["customFields"])
		}
		do(t, "POST", api("/tickets"), k.Write, map[string]any{"ticket": map[string]any{"subject": "x", "customFields": []any{map[string]any{"id": id, "value": "Gold"}}}}).
			wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "ticket.customFields[0].value")
		do(t, "POST", api("/tickets"), k.Write, map[string]any{"ticket": map[string]any{"subject": "x", "customFields": []any{map[string]any{"id": "cf_unknown", "value": "Pro"}}}}).
			wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "ticket.customFields[0].id")
		got := do(t, "PUT", api("/tickets/"+tk["id"].(string)), k.Write, map[string]any{"ticket": map[string]any{"customFields": []any{map[string]any{"id": id, "value": nil}}}}).
			want(t, http.StatusOK).object(t, "ticket")
		if fmt.Sprint(got["customFields"]) != "[]" {
			t.Fatalf("a null value did not remove the field: %v", got["customFields"])
		}
	})
	t.Run("Delete", func(t *testing.T) {
		do(t, "DELETE", api("/custom_fields/"+id), k.Admin, nil).want(t, http.StatusNoContent)
		deleted = true
		do(t, "GET", api("/custom_fields/"+id), k.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
	})
}

// TestColdStartsUnderEmulator checks that every function ran under the
// emulator: each logged exactly one INIT REPORT (one cold start; every
// later invocation found it warm). A function the tests before did not
// reach is invoked through the front first.
func TestColdStartsUnderEmulator(t *testing.T) {
	stack := needLocal(t, "it reads the emulators' logs")
	probes := map[string]string{
		"list": "GET /tickets", "get": "GET /tickets/x", "create": "POST /tickets", "update": "PUT /tickets/x",
		"delete": "DELETE /tickets/x", "customfields": "GET /custom_fields", "webhooks": "GET /webhooks",
		"openapi": "GET /openapi.json", "comments": "GET /tickets/x/comments", "events": "GET /events",
		"trash":   "GET /deleted_tickets",
		"apikeys": "GET /api_keys",
	}
	for _, fn := range e2e.Functions {
		probe, isAPI := probes[fn]
		if isAPI && stack.Invocations(fn) == 0 {
			method, path, _ := strings.Cut(probe, " ")
			if res := do(t, method, api(path), "", nil); fn == "openapi" {
				res.want(t, http.StatusOK) // public
			} else {
				res.wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
			}
		}
	}
	if stack.Invocations(e2e.Dispatch) == 0 {
		createTicket(t, map[string]any{"subject": "wakes the dispatch function"}) // its stream record does
	}
	deadline := time.Now().Add(5 * time.Second) // dispatch and retry run in the background
	for _, fn := range e2e.Functions {
		for stack.InitReports(fn) == 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := stack.InitReports(fn); n != 1 {
			t.Errorf("function %s: %d INIT REPORT lines after %d invocations, want 1; its log:\n%s", fn, n, stack.Invocations(fn), stack.Log(fn, 4<<10))
		}
	}
}

// TestExactNumbers: a number custom field's value comes back exactly as
// sent through the functions and the table; one a DynamoDB number cannot
// hold is 422.
func TestExactNumbers(t *testing.T) {
	needTarget(t)
	k := target.keys
	field := do(t, "POST", api("/custom_fields"), k.Admin, map[string]any{"customField": map[string]any{"name": "E2E Account " + unique(), "type": "number"}}).
		want(t, http.StatusCreated).object(t, "customField")
	id, _ := field["id"].(string)
	t.Cleanup(func() {
		req, _ := http.NewRequest("DELETE", api("/custom_fields/"+id), nil)
		req.Header.Set("Authorization", "Bearer "+k.Admin)
		if res, err := checked(t).Do(req); err == nil {
			res.Body.Close()
		}
	})
	body := func(value string) string {
		return `{"ticket": {"subject": "exact", "customFields": [{"id": "` + id + `", "value": ` + value + `}]}}`
	}
	created := do(t, "POST", api("/tickets"), k.Write, body("12345678901234567890123")).want(t, http.StatusCreated)
	want := `"value":12345678901234567890123}`
	ticket, _ := created.object(t, "ticket")["id"].(string)
	if got := do(t, "GET", api("/tickets/"+ticket), k.Read, nil).want(t, http.StatusOK); !strings.Contains(string(created.raw), want) || !strings.Contains(string(got.raw), want) {
		t.Fatalf("created %s, read back %s; want %s", created.raw, got.raw, want)
	}
	do(t, "POST", api("/tickets"), k.Write, body("1e200")).wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "ticket.customFields[0].value")
}
