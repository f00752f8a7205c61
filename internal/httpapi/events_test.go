package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/app/deliver"
	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// activityEnv is an API (newAPI) with the stream consumer the dispatch
// function runs, which the test feeds (record), and one clock for the
// stores of both, which the test moves: the lists show an event once it is
// dynamo.FeedSettle old by that clock. The clock runs a minute ahead of
// the real one, so that it, not the changes' real times, places the
// events in the feed.
type activityEnv struct {
	*env
	clock   *dynamotest.Clock
	consume func(context.Context, lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error)
	fed     map[string]bool // the stream records consumed, by sequence number
	records int             // the ticket-partition records the test's writes made
}

func newActivity(t *testing.T) *activityEnv {
	t.Helper()
	e, _ := newAPI(t)
	clock := dynamotest.NewClock(time.Now().Add(time.Minute))
	e.store.SetClock(clock.Now)
	sys := newSystem(t, dynamotest.Client(t), e.table, true, slog.New(slog.DiscardHandler))
	sys.Store.SetClock(clock.Now)
	return &activityEnv{env: e, clock: clock, consume: deliver.StreamConsumer(sys, deliver.Dispatcher(sys)), fed: map[string]bool{}}
}

// record feeds the stream consumer the records of the n ticket-partition
// writes the test made since the last call (the records the deployed
// stream filter passes), then moves the clock past the settle window.
func (a *activityEnv) record(n int) {
	a.tb.Helper()
	a.records += n
	ofTickets := func(recs []lambdaevents.DynamoDBEventRecord) []lambdaevents.DynamoDBEventRecord {
		var out []lambdaevents.DynamoDBEventRecord
		for _, r := range recs {
			if dynamo.IsTicketKey(r.Change.Keys) {
				out = append(out, r)
			}
		}
		return out
	}
	recs := ofTickets(dynamotest.ReadStreamUntil(a.tb, a.table, func(recs []lambdaevents.DynamoDBEventRecord) bool {
		return len(ofTickets(recs)) >= a.records
	}))
	if len(recs) != a.records {
		a.tb.Fatalf("the stream holds %d records of tickets, want %d", len(recs), a.records)
	}
	var batch []lambdaevents.DynamoDBEventRecord
	for _, r := range recs {
		if !a.fed[r.Change.SequenceNumber] {
			a.fed[r.Change.SequenceNumber] = true
			batch = append(batch, r)
		}
	}
	if resp, err := a.consume(a.tb.Context(), lambdaevents.DynamoDBEvent{Records: batch}); err != nil || len(resp.BatchItemFailures) > 0 {
		a.tb.Fatalf("stream consumer: %+v, %v", resp, err)
	}
	a.clock.Add(dynamo.FeedSettle + time.Second)
}

// writeKey registers a write key named name and returns it with the actor
// its changes are recorded as.
func (a *activityEnv) writeKey(name string) (key string, actor map[string]any) {
	a.tb.Helper()
	key, hash, id := auth.NewKey()
	if err := a.clean.CreateAPIKey(a.tb.Context(), &helpdesk.APIKey{ID: id, Name: name, Permission: helpdesk.PermWrite, Hash: hash, CreatedAt: time.Now()}); err != nil {
		a.tb.Fatal(err)
	}
	return key, map[string]any{"type": "api_key", "id": id, "name": name}
}

// write sends a ticket write with key and returns the ticket answered.
func (a *activityEnv) write(method, path, key, body string, status int) map[string]any {
	a.tb.Helper()
	res := a.doKey(method, base+path, key, body)
	res.want(a.tb, status, "")
	if status == http.StatusNoContent {
		return nil
	}
	return res.ticket(a.tb)
}

// eventPage is one answer of an event list.
type eventPage struct {
	events  []map[string]any
	hasMore bool
	next    string
}

// page reads one page of an event list with the read key. Every event
// must be the stored body of its event, byte for byte, and the next link
// must be there, whether or not more events are.
func (a *activityEnv) page(path string) eventPage {
	a.tb.Helper()
	res := a.do("GET", path, helpdesk.PermRead, nil)
	res.want(a.tb, http.StatusOK, "")
	var body struct {
		Events []json.RawMessage `json:"events"`
		Links  struct {
			Next *string `json:"next"`
		} `json:"links"`
	}
	if err := json.Unmarshal(res.raw, &body); err != nil {
		a.tb.Fatal(err)
	}
	if body.Events == nil || body.Links.Next == nil || !strings.HasPrefix(*body.Links.Next, base+"/") {
		a.tb.Fatalf("GET %s: events %v, links.next %v; want a list and a link", path, body.Events, body.Links.Next)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" || res.header.Get("ETag") != "" {
		a.tb.Fatalf("GET %s: Cache-Control %q, ETag %q; want no-store and none, as on the other lists", path, cc, res.header.Get("ETag"))
	}
	p := eventPage{hasMore: res.body["meta"].(map[string]any)["hasMore"].(bool), next: *body.Links.Next}
	for _, raw := range body.Events {
		var ev map[string]any
		if err := json.Unmarshal(raw, &ev); err != nil {
			a.tb.Fatal(err)
		}
		stored, err := a.clean.Event(a.tb.Context(), ev["id"].(string))
		if err != nil {
			a.tb.Fatal(err)
		}
		if !bytes.Equal(raw, stored.Body) {
			a.tb.Fatalf("GET %s: event\n%s\nis not as stored\n%s", path, raw, stored.Body)
		}
		p.events = append(p.events, ev)
	}
	return p
}

// walk follows links.next from path while hasMore is true, and returns the
// events and the last page's next link.
func (a *activityEnv) walk(path string) ([]map[string]any, string) {
	a.tb.Helper()
	var all []map[string]any
	for range 50 {
		p := a.page(path)
		all = append(all, p.events...)
		if !p.hasMore {
			return all, p.next
		}
		if len(p.events) == 0 {
			a.tb.Fatalf("GET %s: an empty page with hasMore", path)
		}
		path = p.next
	}
	a.tb.Fatal("the walk does not end")
	return nil, ""
}

// ticketOf is the id of the ticket an event is about.
func ticketOf(ev map[string]any) string {
	return ev["data"].(map[string]any)["ticket"].(map[string]any)["id"].(string)
}

// describe is each event as "type ticket-id", in order.
func describe(evs []map[string]any) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev["type"].(string) + " " + ticketOf(ev)
	}
	return out
}

func ids(evs []map[string]any) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev["id"].(string)
	}
	return out
}

// cursorOf returns the after parameter of a next link.
func cursorOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("after")
}

// sameJSON reports whether a and b encode alike.
func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestEventQueryValidation(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
	feed, history := base+"/events", base+"/tickets/"+id+"/events"
	cases := []struct {
		name   string
		query  string
		on     []string
		status int
		fields []string
	}{
		{"UnknownParameter", "limit=5", []string{feed, history}, http.StatusUnprocessableEntity, []string{"limit"}},
		{"RepeatedParameter", "page_size=1&page_size=2", []string{feed, history}, http.StatusUnprocessableEntity, []string{"page_size"}},
		{"PageSizeZero", "page_size=0", []string{feed, history}, http.StatusUnprocessableEntity, []string{"page_size"}},
		{"PageSizeOverMax", "page_size=1001", []string{feed, history}, http.StatusUnprocessableEntity, []string{"page_size"}},
		{"PageSizeNotNumber", "page_size=abc", []string{feed, history}, http.StatusUnprocessableEntity, []string{"page_size"}},
		{"PageSizeLeadingZero", "page_size=0100", []string{feed, history}, http.StatusUnprocessableEntity, []string{"page_size"}},
		{"UnknownType", "type=ticket.created,ticket.closed", []string{feed, history}, http.StatusUnprocessableEntity, []string{"type"}},
		{"EmptyType", "type=", []string{feed, history}, http.StatusUnprocessableEntity, []string{"type"}},
		{"TrailingComma", "type=ticket.created,", []string{feed, history}, http.StatusUnprocessableEntity, []string{"type"}},
		{"TypeCase", "type=Ticket.Created", []string{feed, history}, http.StatusUnprocessableEntity, []string{"type"}},
		{"RepeatedType", "type=ticket.created&type=ticket.deleted", []string{feed, history}, http.StatusUnprocessableEntity, []string{"type"}},
		{"Several", "type=x&page_size=0&limit=1", []string{feed, history}, http.StatusUnprocessableEntity, []string{"limit", "page_size", "type"}},
		{"BadTicketID", "ticket_id=nonsense", []string{feed}, http.StatusUnprocessableEntity, []string{"ticket_id"}},
		{"EmptyTicketID", "ticket_id=", []string{feed}, http.StatusUnprocessableEntity, []string{"ticket_id"}},
		{"TicketIDOnHistory", "ticket_id=" + id, []string{history}, http.StatusUnprocessableEntity, []string{"ticket_id"}},
		{"EmptyCursor", "after=", []string{feed, history}, http.StatusBadRequest, nil},
		{"GarbageCursor", "after=garbage", []string{feed, history}, http.StatusBadRequest, nil},
		{"BadEscape", "type=%zz", []string{feed, history}, http.StatusBadRequest, nil},
	}
	for _, tc := range cases {
		for _, path := range tc.on {
			name := "Feed"
			if path == history {
				name = "History"
			}
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				code := helpdesk.CodeValidation
				if tc.status == http.StatusBadRequest {
					code = helpdesk.CodeBadRequest
				}
				e.do("GET", path+"?"+tc.query, helpdesk.PermRead, nil).want(t, tc.status, code, tc.fields...)
			})
		}
	}
	for _, query := range []string{"page_size=1", "page_size=1000", "type=ticket.created,ticket.deleted,ticket.created", "ticket_id=tkt_nosuchticketatall"} {
		e.do("GET", feed+"?"+query, helpdesk.PermRead, nil).want(t, http.StatusOK, "")
	}
	e.do("GET", history+"?type=ticket.comment.created&page_size=1000", helpdesk.PermRead, nil).want(t, http.StatusOK, "")
	e.do("GET", feed, "", nil).want(t, http.StatusUnauthorized, helpdesk.CodeUnauthorized)
}

func TestEventHistoryOfUnknownTicket(t *testing.T) {
	e, _ := newAPI(t)
	for _, id := range []string{"tkt_nosuchticketatall", "nonsense", "TKT_aaaaaaaaaaaaaaaaaaaaaaaa"} {
		e.do("GET", base+"/tickets/"+id+"/events", helpdesk.PermRead, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	}
}

// TestEventFeed changes tickets with two keys and reads the feed: every
// event once, oldest first, as the webhooks carry it, naming the key that
// made the change; pages that join up; and a poll from the last page's
// link that returns exactly what was recorded since.
func TestEventFeed(t *testing.T) {
	a := newActivity(t)
	zapier, zapierActor := a.writeKey("zapier")
	desk, deskActor := a.writeKey("support desk")
	feed := base + "/events"

	start := a.page(feed)
	if len(start.events) != 0 || start.hasMore {
		t.Fatalf("a new table's feed: %v, hasMore %v", start.events, start.hasMore)
	}

	tk := a.write("POST", "/tickets", zapier, `{"ticket": {"subject": "Printer on fire", "priority": "high"}}`, http.StatusCreated)
	id := tk["id"].(string)
	a.write("PUT", "/tickets/"+id, desk, `{"ticket": {"status": "pending"}}`, http.StatusOK)
	a.write("PUT", "/tickets/"+id, zapier, `{"ticket": {"assigneeId": "usr_ada"}}`, http.StatusOK)
	a.record(3)

	got := a.page(start.next)
	want := []string{"ticket.created " + id, "ticket.updated " + id, "ticket.updated " + id, "ticket.assignment.changed " + id}
	if !slices.Equal(describe(got.events), want) || got.hasMore {
		t.Fatalf("polled from before the changes: %v (hasMore %v), want %v", describe(got.events), got.hasMore, want)
	}
	t.Run("Actors", func(t *testing.T) {
		for i, actor := range []map[string]any{zapierActor, deskActor, zapierActor, zapierActor} {
			if ev := got.events[i]; !sameJSON(ev["actor"], actor) {
				t.Errorf("%s: actor %v, want %v", ev["type"], ev["actor"], actor)
			}
		}
	})
	t.Run("Previous", func(t *testing.T) {
		for i, prev := range map[int]map[string]any{1: {"status": "new"}, 2: {"assigneeId": nil}, 3: {"assigneeId": nil}} {
			if ev := got.events[i]; !sameJSON(ev["data"].(map[string]any)["previous"], prev) {
				t.Errorf("%s: previous %v, want %v", ev["type"], ev["data"].(map[string]any)["previous"], prev)
			}
		}
	})
	all, last := a.walk(feed + "?page_size=1")
	if !slices.Equal(ids(all), ids(got.events)) {
		t.Fatalf("pages of one: %v, want %v", describe(all), want)
	}
	// Read at once, by the same clock: the cursor is at the horizon.
	if p := a.page(last); len(p.events) != 0 || p.hasMore || p.next == "" {
		t.Fatalf("after the last page: %v, hasMore %v, next %q", describe(p.events), p.hasMore, p.next)
	}

	var other string
	t.Run("PollReturnsExactlyTheNew", func(t *testing.T) {
		other = a.write("POST", "/tickets", desk, `{"ticket": {"subject": "Toner low"}}`, http.StatusCreated)["id"].(string)
		a.write("DELETE", "/tickets/"+id, desk, "", http.StatusNoContent)
		a.record(3) // the new ticket; the deleted one and its tombstone
		// The link keeps page_size=1: the poll is a walk of its own.
		polled, next := a.walk(last)
		if want := []string{"ticket.created " + other, "ticket.deleted " + id}; !slices.Equal(describe(polled), want) {
			t.Fatalf("poll: %v, want %v", describe(polled), want)
		}
		if !sameJSON(polled[1]["actor"], deskActor) {
			t.Fatalf("ticket.deleted by %v, want %v", polled[1]["actor"], deskActor)
		}
		if again := a.page(next); len(again.events) != 0 {
			t.Fatalf("polled again: %v", describe(again.events))
		}
		last = next
	})

	t.Run("Filters", func(t *testing.T) {
		created, _ := a.walk(feed + "?type=ticket.created&page_size=1")
		if len(created) != 2 || created[0]["type"] != events.TicketCreated || created[1]["type"] != events.TicketCreated {
			t.Fatalf("type=ticket.created: %v", describe(created))
		}
		two, _ := a.walk(feed + "?type=ticket.deleted,ticket.assignment.changed")
		if got := describe(two); !slices.Equal(got, []string{"ticket.assignment.changed " + id, "ticket.deleted " + id}) {
			t.Fatalf("two types: %v", got)
		}
		mine, _ := a.walk(feed + "?ticket_id=" + id + "&page_size=2")
		if len(mine) != 5 || slices.ContainsFunc(mine, func(ev map[string]any) bool { return ticketOf(ev) != id }) {
			t.Fatalf("ticket_id=%s: %v", id, describe(mine))
		}
		if none, _ := a.walk(feed + "?ticket_id=tkt_nosuchticketatall"); len(none) != 0 {
			t.Fatalf("an unknown ticket's events: %v", describe(none))
		}
	})

	t.Run("CursorsAreBound", func(t *testing.T) {
		typed := cursorOf(t, a.page(feed+"?type=ticket.created&page_size=1").next)
		plain := cursorOf(t, a.page(feed+"?page_size=1").next)
		history := cursorOf(t, a.page(base+"/tickets/"+id+"/events?page_size=1").next)
		tampered := []byte(plain)
		tampered[len(tampered)/2] ^= 1
		for name, path := range map[string]string{
			"OtherType":       feed + "?after=" + url.QueryEscape(typed),
			"OtherTypes":      feed + "?type=ticket.updated&after=" + url.QueryEscape(typed),
			"OtherTicket":     feed + "?ticket_id=" + id + "&after=" + url.QueryEscape(plain),
			"HistoryOnFeed":   feed + "?after=" + url.QueryEscape(history),
			"FeedOnHistory":   base + "/tickets/" + id + "/events?after=" + url.QueryEscape(plain),
			"OtherHistory":    base + "/tickets/" + other + "/events?after=" + url.QueryEscape(history),
			"Tampered":        feed + "?after=" + url.QueryEscape(string(tampered)),
			"TypedOnHistory":  base + "/tickets/" + id + "/events?type=ticket.created&after=" + url.QueryEscape(typed),
			"PageSizeChanged": feed + "?page_size=3&type=ticket.created&after=" + url.QueryEscape(typed),
		} {
			t.Run(name, func(t *testing.T) {
				res := a.do("GET", path, helpdesk.PermRead, nil)
				if name == "PageSizeChanged" {
					res.want(t, http.StatusOK, "")
				} else {
					res.want(t, http.StatusBadRequest, helpdesk.CodeBadRequest)
				}
			})
		}
	})

	t.Run("OldCursorIsGone", func(t *testing.T) {
		a.clock.Add(helpdesk.FeedWindow)
		a.do("GET", last, helpdesk.PermRead, nil).want(t, http.StatusGone, helpdesk.CodeGone)
		if p := a.page(feed); len(p.events) != 0 {
			t.Fatalf("the feed 30 days later: %v", describe(p.events))
		}
	})
}

// TestTicketHistory reads one ticket's history: its events only, the same
// as the feed's for the ticket, across pages, polled, and after the
// ticket's deletion until its tombstone expires.
func TestTicketHistory(t *testing.T) {
	a := newActivity(t)
	zapier, zapierActor := a.writeKey("zapier")
	desk, deskActor := a.writeKey("support desk")
	id := a.write("POST", "/tickets", zapier, `{"ticket": {"subject": "Cannot log in"}}`, http.StatusCreated)["id"].(string)
	other := a.write("POST", "/tickets", zapier, `{"ticket": {"subject": "Another"}}`, http.StatusCreated)["id"].(string)
	if res := a.doKey("POST", base+"/tickets/"+id+"/comments", desk, `{"comment": {"body": "Looking.", "authorId": "usr_ada"}}`); res.status != http.StatusCreated {
		t.Fatalf("comment: %d %s", res.status, res.raw)
	}
	a.write("PUT", "/tickets/"+id, desk, `{"ticket": {"subject": "Cannot log in with SSO"}}`, http.StatusOK)
	a.record(5) // two tickets, the comment and its ticket's bump, the update
	path := base + "/tickets/" + id + "/events"

	all, last := a.walk(path)
	want := []string{"ticket.created " + id, "ticket.comment.created " + id, "ticket.updated " + id}
	if !slices.Equal(describe(all), want) {
		t.Fatalf("history: %v, want %v", describe(all), want)
	}
	for i, actor := range []map[string]any{zapierActor, deskActor, deskActor} {
		if !sameJSON(all[i]["actor"], actor) {
			t.Errorf("%s: actor %v, want %v", all[i]["type"], all[i]["actor"], actor)
		}
	}
	if prev := all[2]["data"].(map[string]any)["previous"]; !sameJSON(prev, map[string]any{"subject": "Cannot log in"}) {
		t.Errorf("ticket.updated: previous %v", prev)
	}
	if feed, _ := a.walk(base + "/events?ticket_id=" + id); !slices.Equal(ids(feed), ids(all)) {
		t.Fatalf("the feed of the ticket %v, the history %v", describe(feed), describe(all))
	}
	if paged, _ := a.walk(path + "?page_size=1"); !slices.Equal(ids(paged), ids(all)) {
		t.Fatalf("pages of one: %v", describe(paged))
	}
	if updates, _ := a.walk(path + "?type=ticket.updated,ticket.deleted"); len(updates) != 1 || updates[0]["id"] != all[2]["id"] {
		t.Fatalf("type filter: %v", describe(updates))
	}

	a.write("PUT", "/tickets/"+other, desk, `{"ticket": {"priority": "low"}}`, http.StatusOK)
	a.write("DELETE", "/tickets/"+id, zapier, "", http.StatusNoContent)
	a.record(3) // the other ticket's update; the deletion and its tombstone
	p := a.page(last)
	if got := describe(p.events); !slices.Equal(got, []string{"ticket.deleted " + id}) || !sameJSON(p.events[0]["actor"], zapierActor) {
		t.Fatalf("polled after the deletion: %v by %v", got, p.events)
	}
	if after, _ := a.walk(path); len(after) != 4 {
		t.Fatalf("the history of the deleted ticket: %v", describe(after))
	}

	// The history outlives the feed's window while the ticket exists, and
	// a deleted ticket's only for TrashRetention.
	a.clock.Add(helpdesk.TrashRetention)
	if kept, _ := a.walk(base + "/tickets/" + other + "/events"); len(kept) != 2 {
		t.Fatalf("the other ticket's history a month later: %v", describe(kept))
	}
	a.do("GET", path, helpdesk.PermRead, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
}
