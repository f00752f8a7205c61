package dynamotest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// Clock is a clock that stands still until a test moves it, for stores
// (Store.SetClock), services and dispatchers. It is safe for concurrent
// use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Add moves the clock on by d and returns the new time.
func (c *Clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Ahead returns a clock running d ahead of the real one.
func Ahead(d time.Duration) func() time.Time {
	return func() time.Time { return time.Now().Add(d) }
}

// SettledReader returns a store on table whose clock runs
// dynamo.FeedSettle and a second ahead of the real one: its feed and
// histories list every event recorded until now at once, where a real
// reader waits out the settle window. Use it only once the recording a
// test reads has finished: a reader ahead of the consumers' clock can pass
// positions that an event recorded late still takes.
func SettledReader(tb testing.TB, table string) *dynamo.Store {
	tb.Helper()
	s := StoreOn(tb, Client(tb), table)
	s.SetClock(Ahead(dynamo.FeedSettle + time.Second))
	return s
}

// EventWalker reads a feed or a history as a consumer of the activity API
// does: from no cursor, page after page until one says HasMore is false,
// and each later Walk again from the Next it kept. It keeps every event it
// read, in order, and holds each page to the contract of EventPage.
type EventWalker struct {
	Store helpdesk.EventStore
	// Query is what is read; Walk moves its After along.
	Query helpdesk.EventQuery
	// Events are the events read so far, in order.
	Events []*helpdesk.StoredEvent
	// Pages counts the pages read.
	Pages int
}

// Walk reads pages from the walker's cursor until one says HasMore is
// false and returns how many events it read. It fails for a store error or
// a page that breaks the contract: no Next, more events than PageSize, or
// HasMore on a page that is not full. It calls no testing function, so
// that goroutines may walk.
func (w *EventWalker) Walk(ctx context.Context) (int, error) {
	read := 0
	for {
		page, err := w.Store.ListEvents(ctx, w.Query)
		if err != nil {
			return read, fmt.Errorf("page %d of %s: %w", w.Pages+1, describeEventQuery(w.Query), err)
		}
		w.Pages++
		switch {
		case page.Next == "":
			return read, fmt.Errorf("page %d of %s has no Next", w.Pages, describeEventQuery(w.Query))
		case len(page.Events) > w.Query.PageSize:
			return read, fmt.Errorf("page %d of %s holds %d events, more than its size %d", w.Pages, describeEventQuery(w.Query), len(page.Events), w.Query.PageSize)
		case page.HasMore && len(page.Events) < w.Query.PageSize:
			return read, fmt.Errorf("page %d of %s holds %d events of %d and says HasMore", w.Pages, describeEventQuery(w.Query), len(page.Events), w.Query.PageSize)
		}
		w.Events = append(w.Events, page.Events...)
		read += len(page.Events)
		w.Query.After = page.Next
		if !page.HasMore {
			return read, nil
		}
	}
}

func describeEventQuery(q helpdesk.EventQuery) string {
	list := "the feed"
	if q.History {
		list = "the history"
	}
	return fmt.Sprintf("%s (ticket %q, types %q, size %d)", list, q.TicketID, q.Types, q.PageSize)
}

// WalkEvents reads every event of q (from q.After) with a new EventWalker
// and returns them, and the cursor to poll from later.
func WalkEvents(tb testing.TB, store helpdesk.EventStore, q helpdesk.EventQuery) ([]*helpdesk.StoredEvent, string) {
	tb.Helper()
	w := &EventWalker{Store: store, Query: q}
	if _, err := w.Walk(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return w.Events, w.Query.After
}

// EventIDs returns the ids of evs, in order.
func EventIDs(evs []*helpdesk.StoredEvent) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

// CheckEventsOnce returns an error unless got holds each id of want
// exactly once and nothing else, naming what is twice, missing or extra.
func CheckEventsOnce(got []*helpdesk.StoredEvent, want []string) error {
	seen := map[string]int{}
	for _, e := range got {
		seen[e.ID]++
	}
	var problems []string
	wanted := map[string]bool{}
	for _, id := range want {
		wanted[id] = true
		switch n := seen[id]; {
		case n == 0:
			problems = append(problems, id+" missing")
		case n > 1:
			problems = append(problems, fmt.Sprintf("%s %d times", id, n))
		}
	}
	for _, e := range got {
		if !wanted[e.ID] {
			problems = append(problems, e.ID+" ("+e.Type+") not expected")
			wanted[e.ID] = true // named once
		}
	}
	if len(problems) > 0 {
		sample := problems[:min(len(problems), 10)]
		return fmt.Errorf("%d events read, %d expected: %d problems, e.g. %s", len(got), len(want), len(problems), strings.Join(sample, "; "))
	}
	return nil
}

// CheckTicketOrder returns an error unless, for each ticket, its events
// appear in evs in the order their changes committed: their Orders (the
// stream's sequence numbers, then the index in the record) increase.
func CheckTicketOrder(evs []*helpdesk.StoredEvent) error {
	last := map[string]*helpdesk.StoredEvent{}
	for i, e := range evs {
		if prev := last[e.TicketID]; prev != nil && prev.Order >= e.Order {
			return fmt.Errorf("event %d (%s %s, order %s) comes after %s %s (order %s) of the same ticket %s",
				i, e.Type, e.ID, e.Order, prev.Type, prev.ID, prev.Order, e.TicketID)
		}
		last[e.TicketID] = e
	}
	return nil
}

// OfTicket returns the events of evs about ticket id, in order.
func OfTicket(evs []*helpdesk.StoredEvent, id string) []*helpdesk.StoredEvent {
	return slices.DeleteFunc(slices.Clone(evs), func(e *helpdesk.StoredEvent) bool { return e.TicketID != id })
}

// EventBody decodes a recorded event's body as a subscriber would.
func EventBody(tb testing.TB, e *helpdesk.StoredEvent) events.Event {
	tb.Helper()
	var ev events.Event
	if err := json.Unmarshal(e.Body, &ev); err != nil {
		tb.Fatalf("event %s: %v (body %s)", e.ID, err, e.Body)
	}
	return ev
}

// ExpireTombstone deletes the tombstone of deleted ticket id, as the
// table's TTL does TrashRetention after the deletion: DynamoDB
// Local runs no TTL process, so a test stands in for it. The removal
// reaches the stream as the expiry's would: unmarked, a purge (a
// service's deletion differs only in its userIdentity, which the
// consumer reads only to tell a half-done restore's mark apart; see
// dynamo.PurgeOf).
func ExpireTombstone(tb testing.TB, db dynamo.API, table, id string) {
	tb.Helper()
	var tombstones []map[string]types.AttributeValue
	for _, item := range TicketPartition(tb, db, table, id) {
		if _, ok := item["deletedAt"]; ok { // what a tombstone says, and nothing else
			tombstones = append(tombstones, item)
		}
	}
	if len(tombstones) != 1 {
		tb.Fatalf("ticket %s has %d tombstones, want 1", id, len(tombstones))
	}
	key := map[string]types.AttributeValue{"pk": tombstones[0]["pk"], "sk": tombstones[0]["sk"]}
	if _, err := db.DeleteItem(tb.Context(), &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key}); err != nil {
		tb.Fatalf("expire the tombstone of %s: %v", id, err)
	}
}
