package dynamo_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// The store's tests of the activity record write events as the stream
// consumer does (RecordEvents) and read them as the API does (ListEvents);
// the events from the real stream are internal/webhook's activity tests.

// streamSeq stands in for a stream's sequence numbers: increasing, in the
// padded form the consumer gives an event's Order.
var streamSeq atomic.Int64

// newEvent returns an event of ticket about a change at at, as the stream
// consumer hands it to RecordEvents, ordered after every event made before.
func newEvent(ticket, typ string, at time.Time) *helpdesk.StoredEvent {
	return &helpdesk.StoredEvent{
		ID: helpdesk.NewID("evt_"), Type: typ, Body: []byte(`{"type":"` + typ + `"}`),
		CreatedAt: at.UTC().Truncate(time.Millisecond), TicketID: ticket,
		Order: fmt.Sprintf("%040d.0", streamSeq.Add(1)),
	}
}

// record records evs as the stream consumer does, delivering them again
// while a write fails: on a busy machine a write of DynamoDB Local can
// outlast the store's write budget, and what was written keeps its place.
func record(tb testing.TB, s *dynamo.Store, evs ...*helpdesk.StoredEvent) {
	tb.Helper()
	var err error
	for range 10 {
		if _, err = s.RecordEvents(tb.Context(), evs, nil); err == nil {
			return
		}
	}
	tb.Fatalf("RecordEvents, 10 times: %v", err)
}

// inPositionOrder returns evs as the feed orders events recorded promptly:
// by when they happened, then by Order.
func inPositionOrder(evs []*helpdesk.StoredEvent) []*helpdesk.StoredEvent {
	return slices.SortedStableFunc(slices.Values(evs), func(a, b *helpdesk.StoredEvent) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.Order, b.Order))
	})
}

func wantIDs(tb testing.TB, what string, got []*helpdesk.StoredEvent, want []*helpdesk.StoredEvent) {
	tb.Helper()
	if g, w := dynamotest.EventIDs(got), dynamotest.EventIDs(want); !slices.Equal(g, w) {
		tb.Fatalf("%s: %d events\n%v\nwant %d\n%v", what, len(g), g, len(w), w)
	}
}

// TestFeedPagesAndPolls walks a settled feed in pages of every size around
// its length: the same events in the same order each time, HasMore exact,
// events of one millisecond split across pages without loss. Polling from
// the last Next then returns nothing until more is recorded, and then only
// that; an event of the horizon's millisecond waits for the next poll.
func TestFeedPagesAndPolls(t *testing.T) {
	t.Parallel()
	s, table := dynamotest.NewStore(t)
	clk := dynamotest.NewClock(time.Now().UTC().Truncate(time.Second))
	s.SetClock(clk.Now)
	t0 := clk.Now()
	tickets := []string{helpdesk.NewID("tkt_"), helpdesk.NewID("tkt_"), helpdesk.NewID("tkt_"), helpdesk.NewID("tkt_"), helpdesk.NewID("tkt_")}
	// 23 events, three to a millisecond, recorded in three batches.
	var all []*helpdesk.StoredEvent
	for i := range 23 {
		all = append(all, newEvent(tickets[i%len(tickets)], events.Types[i%len(events.Types)], t0.Add(time.Duration(i/3)*time.Millisecond)))
	}
	record(t, s, all[:4]...)
	record(t, s, all[4:20]...)
	record(t, s, all[20:]...)
	want := inPositionOrder(all)

	clk.Set(t0.Add(dynamo.FeedSettle + time.Second))
	var next string
	for _, size := range []int{1, 2, 3, 7, 22, 23, 24, helpdesk.MaxEventPageSize} {
		t.Run(fmt.Sprintf("PageSize%d", size), func(t *testing.T) {
			w := &dynamotest.EventWalker{Store: s, Query: helpdesk.EventQuery{PageSize: size}}
			if _, err := w.Walk(t.Context()); err != nil {
				t.Fatal(err)
			}
			wantIDs(t, "the feed", w.Events, want)
			// HasMore is exact: no empty page ends a walk whose length
			// is a multiple of the page size.
			if pages := (len(all) + size - 1) / size; w.Pages != pages {
				t.Errorf("%d pages, want %d", w.Pages, pages)
			}
			next = w.Query.After
		})
	}

	t.Run("PollAgain", func(t *testing.T) {
		again, next2 := dynamotest.WalkEvents(t, s, helpdesk.EventQuery{PageSize: 5, After: next})
		if len(again) != 0 {
			t.Fatalf("polling the end again read %d events", len(again))
		}
		// Recorded at the clock's time: it happened one second ago.
		at := clk.Now().Add(-time.Second)
		horizon := at.Add(dynamo.FeedSettle)
		more := []*helpdesk.StoredEvent{newEvent(tickets[0], events.TicketUpdated, at.Add(-time.Millisecond)), newEvent(tickets[1], events.TicketDeleted, at)}
		record(t, s, more...)
		clk.Set(horizon)
		got, next3 := dynamotest.WalkEvents(t, s, helpdesk.EventQuery{PageSize: 5, After: next2})
		wantIDs(t, "a poll with the horizon at the second event's millisecond", got, more[:1])
		clk.Set(horizon.Add(time.Millisecond))
		got, _ = dynamotest.WalkEvents(t, s, helpdesk.EventQuery{PageSize: 5, After: next3})
		wantIDs(t, "the poll a millisecond later", got, more[1:])
	})

	t.Run("ReaderClockBehind", func(t *testing.T) {
		// Another function, whose clock is 50 ms behind the one that
		// issued the cursors, polls from them: nothing has settled
		// after them yet for it.
		tk := dynamotest.CreateTicket(t, s, nil)
		record(t, s, newEvent(tk.ID, events.TicketCreated, t0))
		for _, q := range []helpdesk.EventQuery{{PageSize: 5}, {TicketID: tk.ID, PageSize: 5}, {TicketID: tk.ID, History: true, PageSize: 5}} {
			_, cursor := dynamotest.WalkEvents(t, s, q)
			behind := dynamotest.StoreOn(t, dynamotest.Client(t), table)
			behind.SetClock(func() time.Time { return clk.Now().Add(-50 * time.Millisecond) })
			q.After = cursor
			page, err := behind.ListEvents(t.Context(), q)
			if err != nil || len(page.Events) != 0 || page.HasMore || page.Next == "" {
				t.Fatalf("%+v from behind the horizon: %+v, %v; want an empty last page", q, page, err)
			}
		}
	})
}

// TestEventsRecordedLateGoAheadOfReaders: an event recorded long after it
// happened (a consumer that was down, a batch delivered again) is placed
// where a reader that has caught up has not been yet, so it reaches every
// reader; a ticket's events stay in their order even when the later change
// carries the earlier time (a deletion by a function whose clock is
// behind).
func TestEventsRecordedLateGoAheadOfReaders(t *testing.T) {
	t.Parallel()
	s, _ := dynamotest.NewStore(t)
	clk := dynamotest.NewClock(time.Now().UTC().Truncate(time.Second))
	s.SetClock(clk.Now)
	t0 := clk.Now()
	tk, other := helpdesk.NewID("tkt_"), helpdesk.NewID("tkt_")
	early := newEvent(other, events.TicketCreated, t0.Add(-time.Second))
	record(t, s, early)
	clk.Set(t0.Add(dynamo.FeedSettle + time.Second))
	reader := &dynamotest.EventWalker{Store: s, Query: helpdesk.EventQuery{PageSize: 10}}
	if _, err := reader.Walk(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "the first walk", reader.Events, []*helpdesk.StoredEvent{early})

	// The creation happened a minute before the reader's horizon. The
	// update and the deletion happened just now, but the deletion is
	// stamped half a second before the update it follows.
	now := clk.Now()
	created := newEvent(tk, events.TicketCreated, t0.Add(-time.Minute))
	updated := newEvent(tk, events.TicketUpdated, now.Add(-time.Second))
	deleted := newEvent(tk, events.TicketDeleted, now.Add(-1500*time.Millisecond))
	record(t, s, created, updated, deleted)
	clk.Add(dynamo.FeedSettle)
	if _, err := reader.Walk(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "the reader's next poll", reader.Events, []*helpdesk.StoredEvent{early, created, updated, deleted})
	history, _ := dynamotest.WalkEvents(t, s, helpdesk.EventQuery{TicketID: tk, PageSize: 1})
	wantIDs(t, "the ticket's events", history, []*helpdesk.StoredEvent{created, updated, deleted})
}

// TestFeedFilters: the feed filtered by types, by ticket or by both holds
// exactly the events of the whole feed that match, in the same order, and
// a cursor bound to the filters walks them in pages of any size.
func TestFeedFilters(t *testing.T) {
	t.Parallel()
	s, _ := dynamotest.NewStore(t)
	clk := dynamotest.NewClock(time.Now().UTC().Truncate(time.Second))
	s.SetClock(clk.Now)
	t0 := clk.Now()
	rng := rand.New(rand.NewPCG(3, 4))
	tickets := []string{helpdesk.NewID("tkt_"), helpdesk.NewID("tkt_"), helpdesk.NewID("tkt_"), helpdesk.NewID("tkt_")}
	var all []*helpdesk.StoredEvent
	for i := range 60 {
		all = append(all, newEvent(tickets[rng.IntN(len(tickets))], events.Types[rng.IntN(len(events.Types))], t0.Add(time.Duration(i/2)*time.Millisecond)))
	}
	record(t, s, all...)
	clk.Set(t0.Add(dynamo.FeedSettle + time.Second))
	feed, _ := dynamotest.WalkEvents(t, s, helpdesk.EventQuery{PageSize: helpdesk.MaxEventPageSize})
	wantIDs(t, "the whole feed", feed, inPositionOrder(all))

	cases := []struct {
		name   string
		ticket string
		types  []string
	}{
		{"OneType", "", []string{events.TicketCommentCreated}},
		{"TwoTypes", "", []string{events.TicketDeleted, events.TicketCreated}},
		{"EveryType", "", events.Types},
		{"Ticket", tickets[0], nil},
		{"TicketAndTypes", tickets[1], []string{events.TicketUpdated, events.TicketAssignmentChanged}},
		{"NoMatch", "", []string{"ticket.archived"}},
	}
	for _, tc := range cases {
		want := slices.DeleteFunc(slices.Clone(feed), func(e *helpdesk.StoredEvent) bool {
			return tc.ticket != "" && e.TicketID != tc.ticket || len(tc.types) > 0 && !slices.Contains(tc.types, e.Type)
		})
		if len(want) == 0 && tc.name != "NoMatch" {
			t.Fatalf("%s: no event matches; the case proves nothing", tc.name)
		}
		for _, size := range []int{1, 3, 100} {
			t.Run(fmt.Sprintf("%s/PageSize%d", tc.name, size), func(t *testing.T) {
				got, _ := dynamotest.WalkEvents(t, s, helpdesk.EventQuery{TicketID: tc.ticket, Types: tc.types, PageSize: size})
				wantIDs(t, "the filtered feed", got, want)
			})
		}
	}
}

// TestFilteredPageReadBudget: a feed or history page filtered to a type
// that matches little stops at its read budget, short or empty but with
// hasMore and a cursor past what it read, instead of reading everything
// in one request; walking on still sees every match once, in order.
func TestFilteredPageReadBudget(t *testing.T) {
	t.Parallel()
	db := dynamotest.NewMetered(dynamotest.Client(t))
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	s := dynamotest.StoreOn(t, db, table)
	clk := dynamotest.NewClock(time.Now().UTC().Truncate(time.Second))
	s.SetClock(clk.Now)
	t0 := clk.Now()
	ticket := helpdesk.NewID("tkt_")
	var all, rare []*helpdesk.StoredEvent
	for i := range 1200 {
		typ := events.TicketUpdated
		switch {
		case i%400 == 399:
			typ = events.TicketDeleted
		case i == 1198: // the last of the one ticket's 600
			typ = events.TicketCommentRedacted
		}
		// One ticket's events, and others': the history and the feed.
		tk := ticket
		if i%2 == 1 {
			tk = helpdesk.NewID("tkt_")
		}
		e := newEvent(tk, typ, t0.Add(time.Duration(i)*time.Millisecond))
		all = append(all, e)
		if typ == events.TicketDeleted {
			rare = append(rare, e)
		}
	}
	record(t, s, all...)
	clk.Set(t0.Add(dynamo.FeedSettle + 2*time.Second))
	q := helpdesk.EventQuery{Types: []string{events.TicketDeleted}, PageSize: 10}
	budget := 4*(q.PageSize+1) + 400
	shortPages := 0
	var got []*helpdesk.StoredEvent
	for page := 0; ; page++ {
		db.Take()
		p, err := s.ListEvents(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		// A round asks each shard for at most a quarter of what is left,
		// so a page overshoots its budget by less than one round.
		if read := db.Take().Scanned; read > 2*budget {
			t.Fatalf("page %d read %d items, want about the budget %d", page, read, budget)
		}
		if p.HasMore && len(p.Events) < q.PageSize {
			shortPages++
		}
		got = append(got, p.Events...)
		q.After = p.Next
		if !p.HasMore {
			break
		}
	}
	wantIDs(t, "the rare type's walk", got, rare)
	if shortPages == 0 {
		t.Fatal("no page stopped at its budget; the test proves nothing")
	}
	// The feed filtered to the ticket reads one partition of the history
	// index, with the same budget: its first page reads 408 of the
	// ticket's 600 events, finds no match and says so with hasMore.
	tq := helpdesk.EventQuery{TicketID: ticket, Types: []string{events.TicketCommentRedacted}, PageSize: 1}
	first, err := s.ListEvents(t.Context(), tq)
	if err != nil || len(first.Events) != 0 || !first.HasMore {
		t.Fatalf("the ticket's first page: %+v, %v; want none yet, and hasMore", first, err)
	}
	tq.After = first.Next
	one, _ := dynamotest.WalkEvents(t, s, tq)
	wantIDs(t, "the ticket's walk", one, []*helpdesk.StoredEvent{all[1198]})
}

// TestEventCursorRejected: a cursor that was altered, or issued for other
// filters or for the other list, is CodeBadRequest; the same types in
// another order are the same filter. A feed cursor is CodeGone once its
// position is older than the feed's window; a history cursor never is.
func TestEventCursorRejected(t *testing.T) {
	t.Parallel()
	s, table := dynamotest.NewStore(t)
	clk := dynamotest.NewClock(time.Now().UTC().Truncate(time.Second))
	s.SetClock(clk.Now)
	tk := dynamotest.CreateTicket(t, s, nil)
	record(t, s, newEvent(tk.ID, events.TicketCreated, clk.Now()), newEvent(tk.ID, events.TicketUpdated, clk.Now()))
	clk.Add(dynamo.FeedSettle + time.Second)
	types := []string{events.TicketCreated, events.TicketUpdated}
	first := func(q helpdesk.EventQuery) string {
		t.Helper()
		q.PageSize = 1
		page, err := s.ListEvents(t.Context(), q)
		if err != nil || !page.HasMore {
			t.Fatalf("first page of %+v: %+v, %v", q, page, err)
		}
		return page.Next
	}
	feed := first(helpdesk.EventQuery{Types: types})
	history := first(helpdesk.EventQuery{TicketID: tk.ID, History: true})
	dynamotest.CreateTicket(t, s, nil)
	tickets, err := s.ListTickets(t.Context(), helpdesk.ListQuery{SortBy: helpdesk.SortCreatedAt, Order: helpdesk.Asc, PageSize: 1})
	if err != nil || tickets.Next == "" {
		t.Fatalf("a ticket list cursor: %+v, %v", tickets, err)
	}
	tampered := []byte(feed)
	tampered[len(tampered)/2] ^= 1
	for name, q := range map[string]helpdesk.EventQuery{
		"Tampered":          {Types: types, After: string(tampered)},
		"Garbage":           {Types: types, After: "not-a-cursor"},
		"NoTypes":           {After: feed},
		"OtherTypes":        {Types: []string{events.TicketCreated}, After: feed},
		"MoreTypes":         {Types: append([]string{events.TicketDeleted}, types...), After: feed},
		"Ticket":            {Types: types, TicketID: tk.ID, After: feed},
		"FeedCursorHistory": {Types: types, TicketID: tk.ID, History: true, After: feed},
		"HistoryCursorFeed": {TicketID: tk.ID, After: history},
		"OtherTicket":       {TicketID: helpdesk.NewID("tkt_"), History: true, After: history},
		"TicketListCursor":  {After: tickets.Next},
	} {
		t.Run(name, func(t *testing.T) {
			q.PageSize = 10
			_, err := s.ListEvents(t.Context(), q)
			wantCode(t, err, helpdesk.CodeBadRequest)
		})
	}
	t.Run("TypesInAnotherOrder", func(t *testing.T) {
		got, _ := dynamotest.WalkEvents(t, s, helpdesk.EventQuery{Types: []string{types[1], types[0]}, PageSize: 10, After: feed})
		if len(got) != 1 || got[0].Type != events.TicketUpdated {
			t.Fatalf("read %v, want the second event", dynamotest.EventIDs(got))
		}
	})
	t.Run("Gone", func(t *testing.T) {
		// The cursor's position is the first event's: one settle window
		// and a second before the clock that issued it.
		issued := clk.Now()
		pos := issued.Add(-dynamo.FeedSettle - time.Second)
		reader := dynamotest.StoreOn(t, dynamotest.Client(t), table)
		reader.SetClock(func() time.Time { return pos.Add(helpdesk.FeedWindow) })
		if _, err := reader.ListEvents(t.Context(), helpdesk.EventQuery{Types: types, PageSize: 10, After: feed}); err != nil {
			t.Fatalf("a cursor exactly as old as the window: %v", err)
		}
		reader.SetClock(func() time.Time { return pos.Add(helpdesk.FeedWindow + time.Millisecond) })
		_, err := reader.ListEvents(t.Context(), helpdesk.EventQuery{Types: types, PageSize: 10, After: feed})
		wantCode(t, err, helpdesk.CodeGone)
		// The history has no window: the ticket still exists.
		if _, err := reader.ListEvents(t.Context(), helpdesk.EventQuery{TicketID: tk.ID, History: true, PageSize: 10, After: history}); err != nil {
			t.Fatalf("the history cursor after the feed's window: %v", err)
		}
	})
}

// TestTrashRetention: the history of a ticket that never existed is
// CodeNotFound, and that of a ticket without events an empty page. A
// deleted ticket's history reads as before for TrashRetention after
// the deletion its tombstone records, with or without a cursor, and is
// CodeNotFound from then on.
func TestTrashRetention(t *testing.T) {
	t.Parallel()
	s, _ := dynamotest.NewStore(t)
	clk := dynamotest.NewClock(time.Now().UTC().Truncate(time.Second))
	s.SetClock(clk.Now)
	activity := helpdesk.NewActivity(s)
	q := helpdesk.EventQuery{PageSize: 2}

	for name, id := range map[string]string{"NeverExisted": helpdesk.NewID("tkt_"), "NotATicketID": "usr_abc"} {
		t.Run(name, func(t *testing.T) {
			_, err := activity.History(t.Context(), id, q)
			wantCode(t, err, helpdesk.CodeNotFound)
		})
	}
	quiet := dynamotest.CreateTicket(t, s, nil)
	if page, err := activity.History(t.Context(), quiet.ID, q); err != nil || len(page.Events) != 0 || page.Next == "" {
		t.Fatalf("the history of a ticket without events: %+v, %v", page, err)
	}

	tk := dynamotest.CreateTicket(t, s, nil)
	t0 := clk.Now()
	evs := []*helpdesk.StoredEvent{
		newEvent(tk.ID, events.TicketCreated, t0),
		newEvent(tk.ID, events.TicketUpdated, t0.Add(time.Millisecond)),
		newEvent(tk.ID, events.TicketDeleted, t0.Add(2*time.Millisecond)),
	}
	record(t, s, evs...)
	deletion := helpdesk.Stamp{At: t0.Add(2 * time.Millisecond), By: helpdesk.Actor{Type: helpdesk.ActorAPIKey, ID: "key_a", Name: "ops"}}
	if err := s.DeleteTicket(t.Context(), tk.ID, helpdesk.Precondition{}, deletion); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Tombstone(t.Context(), tk.ID); err != nil || !got.At.Equal(deletion.At) || got.By != deletion.By {
		t.Fatalf("tombstone %+v, %v; want %+v", got, err, deletion)
	}
	clk.Set(t0.Add(dynamo.FeedSettle + time.Second))
	first, err := activity.History(t.Context(), tk.ID, q)
	if err != nil || len(first.Events) != 2 || !first.HasMore {
		t.Fatalf("the first page of the deleted ticket's history: %+v, %v", first, err)
	}
	for _, at := range []time.Time{clk.Now(), deletion.At.Add(helpdesk.TrashRetention - time.Millisecond)} {
		clk.Set(at)
		w := &dynamotest.EventWalker{Store: activity.Events, Query: helpdesk.EventQuery{TicketID: tk.ID, History: true, PageSize: 2}}
		if _, err := w.Walk(t.Context()); err != nil {
			t.Fatalf("at %v: %v", at, err)
		}
		wantIDs(t, fmt.Sprintf("the history at %v", at), w.Events, evs)
	}
	clk.Set(deletion.At.Add(helpdesk.TrashRetention))
	_, err = activity.History(t.Context(), tk.ID, q)
	wantCode(t, err, helpdesk.CodeNotFound)
	q.After = first.Next
	_, err = activity.History(t.Context(), tk.ID, q)
	wantCode(t, err, helpdesk.CodeNotFound)
}

// TestFeedWalkWhileRecording is the feed's property test, as
// TestWalkDuringWrites is the ticket list's. Consumers record events
// concurrently, as the stream's shards are consumed: each its own tickets,
// in batches of 1 to 30. Each starts with a backlog of changes older than
// the settle window, recorded once the readers have walked past them;
// then most changes are recorded promptly, some seconds late, and some
// batches are delivered twice. Meanwhile
// readers on the real clock walk the feed, the feed of some types, the feed
// of one ticket and a ticket's history, from no cursor, and poll again
// from their last Next until a poll that starts FeedSettle after the last
// recording. Each reads every event of its query exactly once, each
// ticket's in the order recorded, the filtered lists in the feed's order,
// and the events recorded promptly in the order they happened.
func TestFeedWalkWhileRecording(t *testing.T) {
	// Not parallel: it needs DynamoDB Local quick enough to record events
	// within their write budget, so it runs in file order, before the
	// workload and migration tests, after which DynamoDB Local is slower.
	s, _ := dynamotest.NewStore(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	const consumers, ticketsEach, recording = 4, 5, 3 * time.Second
	owned := make([][]string, consumers)
	for c := range owned {
		for range ticketsEach {
			owned[c] = append(owned[c], dynamotest.CreateTicket(t, s, nil).ID)
		}
	}
	ctx := t.Context()
	var mu sync.Mutex
	var recorded []*helpdesk.StoredEvent
	prompt := map[string]bool{}
	var consuming sync.WaitGroup
	errs := make(chan error, 16)
	walked := make(chan struct{}) // closed once every reader has walked once
	stop := time.Now().Add(recording)
	for c := range consumers {
		rng := rand.New(rand.NewPCG(seed, uint64(c)))
		consuming.Go(func() {
			lastAt := map[string]time.Time{}
			event := func(at time.Time) *helpdesk.StoredEvent {
				tk := owned[c][rng.IntN(ticketsEach)]
				// A ticket's changes happen in the order they commit
				// (the service's updatedAt never goes back).
				at = helpdesk.Latest(at.UTC().Truncate(time.Millisecond), lastAt[tk])
				lastAt[tk] = at
				return newEvent(tk, events.Types[rng.IntN(len(events.Types))], at)
			}
			// The consumer starts behind: its shard holds changes of 9
			// to 6 s ago, which the readers walk past before they are
			// recorded.
			var backlog []*helpdesk.StoredEvent
			for i := range 30 {
				backlog = append(backlog, event(time.Now().Add(-9*time.Second+time.Duration(i)*100*time.Millisecond)))
			}
			<-walked
			var previous []*helpdesk.StoredEvent
			for time.Now().Before(stop) {
				batch, again := previous, previous != nil && rng.IntN(5) == 0
				if !again {
					n := 1 + rng.IntN(30)
					if len(backlog) > 0 {
						n = min(n, len(backlog))
						batch, backlog = backlog[:n], backlog[n:]
					} else {
						batch = nil
						now := time.Now()
						for range n {
							// Prompt changes are at most 200 ms old, so
							// that a write slowed by a busy machine still
							// records them where they happened.
							lag := time.Duration(rng.IntN(200)) * time.Millisecond
							if rng.IntN(10) == 0 {
								lag = 2*time.Second + time.Duration(rng.IntN(2000))*time.Millisecond
							}
							batch = append(batch, event(now.Add(-lag)))
						}
					}
				}
				// As the stream does, deliver a batch again until it is
				// recorded.
				for attempt := 1; ; attempt++ {
					_, err := s.RecordEvents(ctx, batch, nil)
					if err == nil {
						break
					}
					if attempt == 10 {
						errs <- fmt.Errorf("consumer %d: %w", c, err)
						return
					}
					t.Logf("consumer %d: %v; delivering the batch again", c, err)
				}
				done := time.Now()
				if !again {
					mu.Lock()
					for _, e := range batch {
						recorded = append(recorded, e)
						// Placed where it happened: the store takes
						// that time unless it is over 2 s before the
						// write's start, which came before done; 1.9 s
						// keeps inside by more than the millisecond
						// the store truncates to, and counts a write
						// slowed by a busy machine as prompt as long
						// as it was.
						prompt[e.ID] = !e.CreatedAt.Before(done.Add(-1900 * time.Millisecond))
					}
					mu.Unlock()
				}
				previous = batch
				time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
			}
		})
	}

	readers := []*dynamotest.EventWalker{
		{Store: s, Query: helpdesk.EventQuery{PageSize: 7}},
		{Store: s, Query: helpdesk.EventQuery{Types: []string{events.TicketCreated, events.TicketDeleted}, PageSize: 3}},
		{Store: s, Query: helpdesk.EventQuery{TicketID: owned[0][0], PageSize: 2}},
		{Store: s, Query: helpdesk.EventQuery{TicketID: owned[1][0], History: true, PageSize: 2}},
	}
	var settledAfter atomic.Int64 // when every recording was done, in Unix ns; 0 while recording
	var reading, firstWalks sync.WaitGroup
	firstWalks.Add(len(readers))
	go func() {
		firstWalks.Wait()
		close(walked)
	}()
	for _, r := range readers {
		reading.Go(func() {
			first := true
			for deadline := time.Now().Add(recording + dynamo.FeedSettle + 20*time.Second); ; time.Sleep(20 * time.Millisecond) {
				started := time.Now()
				if started.After(deadline) {
					errs <- errors.New("the readers did not finish in time")
					return
				}
				_, err := r.Walk(ctx)
				if first {
					firstWalks.Done()
					first = false
				}
				if err != nil {
					errs <- err
					return
				}
				if done := settledAfter.Load(); done != 0 && started.UnixNano() > done+int64(dynamo.FeedSettle) {
					return
				}
			}
		})
	}
	consuming.Wait()
	settledAfter.Store(time.Now().UnixNano())
	reading.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	want := func(keep func(*helpdesk.StoredEvent) bool) []string {
		var ids []string
		for _, e := range recorded {
			if keep(e) {
				ids = append(ids, e.ID)
			}
		}
		return ids
	}
	feed := readers[0].Events
	t.Logf("%d events recorded; the feed read in %d pages", len(recorded), readers[0].Pages)
	for i, r := range readers {
		q := r.Query
		matches := func(e *helpdesk.StoredEvent) bool {
			return (q.TicketID == "" || e.TicketID == q.TicketID) && (len(q.Types) == 0 || slices.Contains(q.Types, e.Type))
		}
		if err := dynamotest.CheckEventsOnce(r.Events, want(matches)); err != nil {
			t.Errorf("reader %d (%+v): %v", i, q, err)
		}
		if err := dynamotest.CheckTicketOrder(r.Events); err != nil {
			t.Errorf("reader %d: %v", i, err)
		}
		if i > 0 {
			inFeed := slices.DeleteFunc(slices.Clone(feed), func(e *helpdesk.StoredEvent) bool { return !matches(e) })
			if g, w := dynamotest.EventIDs(r.Events), dynamotest.EventIDs(inFeed); !slices.Equal(g, w) {
				t.Errorf("reader %d read its events in another order than the feed", i)
			}
		}
	}
	var last *helpdesk.StoredEvent
	promptly := 0
	for _, e := range feed {
		if !prompt[e.ID] {
			continue
		}
		promptly++
		if last != nil && e.CreatedAt.Before(last.CreatedAt) {
			t.Errorf("event %s of %v comes after %s of %v, both recorded promptly", e.ID, e.CreatedAt, last.ID, last.CreatedAt)
		}
		last = e
	}
	if promptly == 0 || promptly == len(feed) {
		t.Errorf("%d of %d events recorded promptly: the walk proved less than it should", promptly, len(feed))
	}
}

// TestSlowEventWriteIsGivenUp: the first attempt of a BatchWriteItem of
// events never answers (a dead connection), and the SDK would try again
// once its attempt timeout has passed, after the write budget. A reader
// polling just then has passed the events' positions, so the store must
// give the write up at the budget rather than let a later attempt land
// behind the reader; the batch delivered again places the events ahead of
// it, and the reader reads them once.
func TestSlowEventWriteIsGivenUp(t *testing.T) {
	t.Parallel()
	_, table := dynamotest.NewStore(t)
	db, faults := dynamotest.FaultyClient(t, 3*time.Second)
	writer := dynamotest.StoreOn(t, db, table)
	// The reader's clock is 100 ms ahead of the writer's, well within
	// what the settle window allows for.
	reader := dynamotest.StoreOn(t, dynamotest.Client(t), table)
	reader.SetClock(dynamotest.Ahead(100 * time.Millisecond))
	walker := &dynamotest.EventWalker{Store: reader, Query: helpdesk.EventQuery{PageSize: 10}}
	if _, err := walker.Walk(t.Context()); err != nil {
		t.Fatal(err)
	}
	var walkErr error
	faults.Add(
		dynamotest.Rule{Op: "BatchWriteItem", Times: 1, Fault: dynamotest.Timeout},
		// The SDK's next attempt: the reader polls just before it lands.
		dynamotest.Rule{Op: "BatchWriteItem", Times: 1, Before: func() { _, walkErr = walker.Walk(context.Background()) }},
	)
	// Recorded late, so placed 2 s before the write starts.
	ev := newEvent(helpdesk.NewID("tkt_"), events.TicketCreated, time.Now().Add(-time.Minute))
	if _, err := writer.RecordEvents(t.Context(), []*helpdesk.StoredEvent{ev}, nil); err == nil {
		t.Error("a write of events that outlived its budget succeeded")
	}
	if walkErr != nil {
		t.Fatal(walkErr)
	}
	if n := faults.Seen("BatchWriteItem"); n != 1 {
		t.Errorf("%d attempts of BatchWriteItem, want the one that hung: none may start after the budget", n)
	}
	faults.Clear()
	record(t, writer, ev) // the stream delivers the batch again
	// Once the recording is over, a reader ahead by the settle window
	// reads what this one will read when it has passed.
	walker.Store = dynamotest.SettledReader(t, table)
	if _, err := walker.Walk(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := dynamotest.CheckEventsOnce(walker.Events, []string{ev.ID}); err != nil {
		t.Fatal(err)
	}
}

// TestRecordEventsTwiceInOneBatch: a batch that holds one change twice
// (the same event, and so the same deliveries) records it once. DynamoDB
// refuses a batch read or write naming a key twice, which would fail the
// batch on every delivery and stall its shard.
func TestRecordEventsTwiceInOneBatch(t *testing.T) {
	t.Parallel()
	s, table := dynamotest.NewStore(t)
	e := newEvent(helpdesk.NewID("tkt_"), events.TicketCreated, time.Now())
	again := *e
	hook := helpdesk.NewID("whk_")
	d := &helpdesk.Delivery{WebhookID: hook, EventID: e.ID, Due: time.Now()}
	fresh, err := s.RecordEvents(t.Context(), []*helpdesk.StoredEvent{e, &again}, []*helpdesk.Delivery{d, {WebhookID: hook, EventID: e.ID, Due: time.Now()}})
	if err != nil || len(fresh) != 1 || fresh[0] != d {
		t.Fatalf("RecordEvents = %v, %v; want the first delivery only", fresh, err)
	}
	feed, _ := dynamotest.WalkEvents(t, dynamotest.SettledReader(t, table), helpdesk.EventQuery{PageSize: 10})
	wantIDs(t, "the feed", feed, []*helpdesk.StoredEvent{e})
}
