package suite_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/apiclient"
)

// The activity record, through the events function: the change feed and
// the tickets' histories. This file sorts before suite_test.go, whose
// TestWebhooks must subscribe before any ticket changes (see there), so
// TestEvents pauses (t.Parallel) until the sequential tests have run. The
// feed then holds the other tests' events too, and, against a deployed
// stack, other clients': the test looks at its own tickets' events, and at
// every event only for duplicates.

// eventsWithin bounds the wait for a change's events: the stream consumer
// records them within a second or so, and the lists show an event once it
// is 5 s old.
const eventsWithin = 30 * time.Second

// walkEvents reads an event list from u, following links.next while
// meta.hasMore is true, and returns its events and the last page's link,
// which every page has.
func walkEvents(t *testing.T, u string) (evs []map[string]any, last string) {
	t.Helper()
	for range 1000 {
		res := do(t, "GET", u, target.keys.Read, nil).want(t, http.StatusOK)
		page, _ := res.body["events"].([]any)
		for _, ev := range page {
			evs = append(evs, ev.(map[string]any))
		}
		link, ok := res.object(t, "links")["next"].(string)
		if !ok || !strings.HasPrefix(link, "/") {
			t.Fatalf("GET %s: links.next %v; want a link on every page", u, res.object(t, "links")["next"])
		}
		if res.object(t, "meta")["hasMore"] != true {
			return evs, link
		}
		u = follow(t, link)
	}
	t.Fatalf("the walk from %s does not end", u)
	return nil, ""
}

// about returns the events of evs about the tickets ids, in order.
func about(evs []map[string]any, ids ...string) []map[string]any {
	var out []map[string]any
	for _, ev := range evs {
		tk, _ := ev["data"].(map[string]any)["ticket"].(map[string]any)
		if id, _ := tk["id"].(string); slices.Contains(ids, id) {
			out = append(out, ev)
		}
	}
	return out
}

// eventTypes returns the types of evs, in order.
func eventTypes(evs []map[string]any) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i], _ = ev["type"].(string)
	}
	return out
}

// eventIDs returns the ids of evs, failing on one seen twice.
func eventIDs(t *testing.T, evs []map[string]any) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for _, ev := range evs {
		id, _ := ev["id"].(string)
		if seen[id] {
			t.Fatalf("event %s (%s) listed twice", id, ev["type"])
		}
		seen[id] = true
	}
	return seen
}

// asJSON is v encoded, to compare decoded values.
func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// actorChecker checks that each event names the key that made its change:
// against the local stack the key's own id and name, which the stack
// registered; against a deployed one, whose keys' ids the suite is not
// told, the same API key actor for every change of one key and another
// for each other key.
type actorChecker struct {
	seen map[string]map[string]any // by key
}

func (c *actorChecker) check(t *testing.T, ev map[string]any, key string) {
	t.Helper()
	got, _ := ev["actor"].(map[string]any)
	if got["type"] != "api_key" || !strings.HasPrefix(fmt.Sprint(got["id"]), "key_") || got["name"] == "" || got["name"] == nil {
		t.Fatalf("%s %s: actor %v, want an API key by id and name", ev["type"], ev["id"], got)
	}
	if target.local != nil {
		want, ok := target.local.Actor(key)
		if !ok || got["id"] != want.ID || got["name"] != want.Name {
			t.Fatalf("%s %s: actor %v, want the key that made the change, %+v", ev["type"], ev["id"], got, want)
		}
		return
	}
	if c.seen == nil {
		c.seen = map[string]map[string]any{}
	}
	for k, a := range c.seen {
		if (k == key) != (a["id"] == got["id"]) || k == key && a["name"] != got["name"] {
			t.Fatalf("%s %s: actor %v; the changes of that key and of another were by %v", ev["type"], ev["id"], got, a)
		}
	}
	c.seen[key] = got
}

// TestEvents changes a ticket with two keys and reads what the activity
// record says as a new user would: the ticket's history names the key
// behind each change and the values it replaced; the feed, walked from
// its start to its end, holds those events once each; and a poll of the
// feed's last link returns exactly the events of the changes made since.
func TestEvents(t *testing.T) {
	needTarget(t)
	t.Parallel()
	writer, admin := target.keys.Write, target.keys.Admin
	assignee := "usr_e2e-" + unique()
	id := createTicket(t, map[string]any{"subject": "Events end to end", "priority": "low"})["id"].(string)
	type change struct {
		key      string
		types    []string
		previous map[string]any
	}
	made := []change{{writer, []string{"ticket.created"}, nil}}
	for _, c := range []struct {
		key      string
		fields   map[string]any
		previous map[string]any
	}{
		{admin, map[string]any{"priority": "high"}, map[string]any{"priority": "low"}},
		{writer, map[string]any{"status": "pending", "tags": []string{"vip"}}, map[string]any{"status": "new", "tags": []any{}}},
		{admin, map[string]any{"assigneeId": assignee}, map[string]any{"assigneeId": nil}},
	} {
		do(t, "PUT", api("/tickets/"+id), c.key, map[string]any{"ticket": c.fields}).want(t, http.StatusOK)
		types := []string{"ticket.updated"}
		if _, assigns := c.fields["assigneeId"]; assigns {
			types = append(types, "ticket.assignment.changed")
		}
		made = append(made, change{c.key, types, c.previous})
	}
	var wantTypes []string
	for _, c := range made {
		wantTypes = append(wantTypes, c.types...)
	}

	// The history, read until the changes' events are listed.
	historyURL := api("/tickets/" + id + "/events")
	var history []map[string]any
	for deadline := time.Now().Add(eventsWithin); ; time.Sleep(500 * time.Millisecond) {
		if history, _ = walkEvents(t, historyURL); len(history) >= len(wantTypes) || time.Now().After(deadline) {
			break
		}
	}
	if got := eventTypes(history); !slices.Equal(got, wantTypes) {
		t.Fatalf("the history of %s: %v, want %v", id, got, wantTypes)
	}
	eventIDs(t, history)
	var actors actorChecker
	i := 0
	for _, c := range made {
		for _, typ := range c.types {
			ev := history[i]
			i++
			actors.check(t, ev, c.key)
			previous := c.previous
			if typ == "ticket.assignment.changed" {
				previous = map[string]any{"assigneeId": nil}
			}
			if got := ev["data"].(map[string]any)["previous"]; asJSON(got) != asJSON(previous) {
				t.Fatalf("%s %s: data.previous %v, want %v", typ, ev["id"], got, previous)
			}
		}
	}

	t.Run("TypedClient", func(t *testing.T) {
		res, err := typedClient(t, target.keys.Read).ListTicketEventsWithResponse(t.Context(), id, &apiclient.ListTicketEventsParams{PageSize: new(apiclient.EventPageSize(2))})
		if err != nil || res.JSON200 == nil {
			t.Fatalf("history: %v %s", err, res.Body)
		}
		page := res.JSON200
		if len(page.Events) != 2 || !page.Meta.HasMore || !strings.HasPrefix(page.Links.Next, "/") {
			t.Fatalf("a page of 2: %d events, hasMore %v, next %q", len(page.Events), page.Meta.HasMore, page.Links.Next)
		}
		typ, err := page.Events[1].Discriminator()
		if err != nil || typ != "ticket.updated" {
			t.Fatalf("the second event's type %q, %v", typ, err)
		}
		updated, err := page.Events[1].AsTicketUpdatedEvent()
		if err != nil || updated.Actor == nil || updated.Actor.Type != apiclient.ApiKey || string(updated.Id) != history[1]["id"] ||
			updated.Data.Previous.Priority == nil || *updated.Data.Previous.Priority != apiclient.Low || updated.Data.Ticket.Priority != apiclient.High {
			t.Fatalf("ticket.updated through the typed client: %+v, %v", updated, err)
		}
	})

	// The feed from its start to its end holds the history, once.
	all, last := walkEvents(t, api("/events?page_size=50"))
	seen := eventIDs(t, all)
	if got := about(all, id); asJSON(got) != asJSON(history) {
		t.Fatalf("the feed's events of %s: %v, want the history's %v", id, eventTypes(got), wantTypes)
	}

	// More changes; a poll of the last link returns exactly their events.
	other := createTicket(t, map[string]any{"subject": "Events end to end, another"})["id"].(string)
	do(t, "PUT", api("/tickets/"+id), writer, map[string]any{"ticket": map[string]any{"subject": "Events end to end, renamed"}}).want(t, http.StatusOK)
	do(t, "DELETE", api("/tickets/"+other), admin, nil).want(t, http.StatusNoContent)
	var polled []map[string]any
	for deadline := time.Now().Add(eventsWithin); ; time.Sleep(500 * time.Millisecond) {
		evs, next := walkEvents(t, follow(t, last))
		polled, last = append(polled, evs...), next
		if len(about(polled, id, other)) >= 3 || time.Now().After(deadline) {
			break
		}
	}
	for evID := range eventIDs(t, polled) {
		if seen[evID] {
			t.Fatalf("the poll listed %s again", evID)
		}
	}
	mine, theirs := about(polled, id), about(polled, other)
	if got := eventTypes(mine); !slices.Equal(got, []string{"ticket.updated"}) {
		t.Fatalf("polled events of %s: %v, want the rename's ticket.updated", id, got)
	}
	if got := eventTypes(theirs); !slices.Equal(got, []string{"ticket.created", "ticket.deleted"}) {
		t.Fatalf("polled events of %s: %v, want its creation and deletion", other, got)
	}
	actors.check(t, mine[0], writer)
	actors.check(t, theirs[0], writer)
	actors.check(t, theirs[1], admin)
	if prev := mine[0]["data"].(map[string]any)["previous"]; asJSON(prev) != `{"subject":"Events end to end"}` {
		t.Fatalf("the rename's data.previous %v", prev)
	}

	t.Run("Refusals", func(t *testing.T) {
		do(t, "GET", historyURL+"?ticket_id="+id, target.keys.Read, nil).wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "ticket_id")
		do(t, "GET", api("/events?page_size=1001&type=ticket.closed"), target.keys.Read, nil).wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "page_size", "type")
		do(t, "GET", api("/events?after=nonsense"), target.keys.Read, nil).wantError(t, http.StatusBadRequest, "BAD_REQUEST")
		do(t, "GET", api("/tickets/tkt_nosuchticketatall/events"), target.keys.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
		do(t, "GET", api("/events"), "", nil).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
	})
}
