package webhook_test

import (
	"slices"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
	"github.com/acme/helpdesk/internal/webhook"
)

// The activity record as the stream consumer makes it: changes made
// through the domain's services, the table's real stream handed to
// HandleStream, the feed and histories read back from the store.

// handleEach hands each record to d in a batch of its own, as the stream
// may cut its batches anywhere, failing the test if one is not recorded.
func handleEach(tb testing.TB, d *webhook.Dispatcher, records []lambdaevents.DynamoDBEventRecord) {
	tb.Helper()
	for _, rec := range records {
		handle(tb, d, rec)
	}
}

// handle hands records to d in one batch, failing the test if any of
// them is not recorded.
func handle(tb testing.TB, d *webhook.Dispatcher, records ...lambdaevents.DynamoDBEventRecord) {
	tb.Helper()
	resp, err := d.HandleStream(tb.Context(), lambdaevents.DynamoDBEvent{Records: records})
	if err != nil || len(resp.BatchItemFailures) > 0 {
		tb.Fatalf("HandleStream = %+v, %v", resp, err)
	}
}

// readerAt returns a store on table that reads the feed as a reader would
// FeedSettle and a second after now says.
func readerAt(tb testing.TB, table string, now func() time.Time) *dynamo.Store {
	tb.Helper()
	r := dynamotest.StoreOn(tb, dynamotest.Client(tb), table)
	r.SetClock(func() time.Time { return now().Add(dynamo.FeedSettle + time.Second) })
	return r
}

// expected is an event a test expects: its type, ticket, actor and time.
type expected struct {
	typ    string
	ticket string
	by     helpdesk.Actor
	at     time.Time
}

// TestActivityRecordsEveryChange makes every kind of change through the
// services, as two API keys and as nobody, one second apart, and records
// the table's stream in one batch. The feed then holds one event per
// change (ticket.updated and ticket.assignment.changed for a reassignment)
// in the order the changes were made, across tickets too, each naming its
// actor and the time of its change; ticket.deleted has the deletion's time
// from the tombstone, not the ticket's last update, and the system as
// actor. A restore is ticket.restored; a ticket purged in the batch leaves
// only its ticket.purged. Each ticket's history is its part of the feed,
// in the same order.
func TestActivityRecordsEveryChange(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	// The functions' clock: its own second for each change.
	clk := dynamotest.NewClock(time.Now().UTC().Truncate(time.Second))
	tick := func() time.Time { return clk.Add(time.Second) }
	svc := helpdesk.NewService(store, store)
	svc.Now = clk.Now
	convo := helpdesk.NewConversations(store, store)
	convo.Now = clk.Now
	alice := helpdesk.Actor{Type: helpdesk.ActorAPIKey, ID: helpdesk.NewID("key_"), Name: "alice's desk"}
	bob := helpdesk.Actor{Type: helpdesk.ActorAPIKey, ID: helpdesk.NewID("key_"), Name: "bob's integration"}
	asAlice, asBob, asNobody := helpdesk.WithActor(t.Context(), alice), helpdesk.WithActor(t.Context(), bob), t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	var want []expected
	at := tick()
	tk, err := svc.CreateTicket(asAlice, &helpdesk.TicketPatch{Subject: new("Printer on fire")}, nil, nil)
	must(err)
	want = append(want, expected{events.TicketCreated, tk.ID, alice, at})
	at = tick()
	other, err := svc.CreateTicket(asBob, &helpdesk.TicketPatch{Subject: new("Toner low")}, nil, nil)
	must(err)
	want = append(want, expected{events.TicketCreated, other.ID, bob, at})
	at = tick()
	_, err = svc.UpdateTicket(asBob, tk.ID, &helpdesk.TicketPatch{Status: new(helpdesk.StatusPending), AssigneeID: helpdesk.Set("usr_bob")}, nil, helpdesk.Precondition{})
	must(err)
	want = append(want, expected{events.TicketUpdated, tk.ID, bob, at}, expected{events.TicketAssignmentChanged, tk.ID, bob, at})
	at = tick()
	c, _, err := convo.AddComment(asAlice, tk.ID, &helpdesk.CommentDraft{Body: new("Swapped the fuser."), AuthorID: helpdesk.Set("usr_alice")}, nil, nil)
	must(err)
	want = append(want, expected{events.TicketCommentCreated, tk.ID, alice, at})
	lastUpdate := at // the comment moved the ticket's updatedAt
	at = tick()
	_, err = convo.RedactComment(asBob, tk.ID, c.ID)
	must(err)
	want = append(want, expected{events.TicketCommentRedacted, tk.ID, bob, at})
	at = tick()
	_, err = svc.UpdateTicket(asAlice, other.ID, &helpdesk.TicketPatch{Priority: new(helpdesk.PriorityHigh)}, nil, helpdesk.Precondition{})
	must(err)
	want = append(want, expected{events.TicketUpdated, other.ID, alice, at})
	tick()
	at = tick()
	must(svc.DeleteTicket(asNobody, tk.ID, helpdesk.Precondition{}))
	want = append(want, expected{events.TicketDeleted, tk.ID, helpdesk.System, at})
	trash := helpdesk.NewTrash(store)
	trash.Now = clk.Now
	at = tick()
	must(svc.DeleteTicket(asBob, other.ID, helpdesk.Precondition{}))
	want = append(want, expected{events.TicketDeleted, other.ID, bob, at})
	at = tick()
	_, err = trash.RestoreTicket(asAlice, other.ID)
	must(err)
	want = append(want, expected{events.TicketRestored, other.ID, alice, at})
	// A ticket created, deleted and purged in the batch leaves only its
	// ticket.purged.
	tick()
	doomed, err := svc.CreateTicket(asBob, &helpdesk.TicketPatch{Subject: new("Spam")}, nil, nil)
	must(err)
	tick()
	must(svc.DeleteTicket(asBob, doomed.ID, helpdesk.Precondition{}))
	at = tick()
	must(trash.PurgeTicket(asAlice, doomed.ID))
	want = append(want, expected{events.TicketPurged, doomed.ID, alice, at})

	// Two creations, the reassignment, the comment and its ticket's bump,
	// the redaction, the other update, the deletion and its tombstone;
	// the other's deletion (2), its restore (the tombstone's mark, its
	// removal and the ticket's put); the doomed ticket's creation,
	// deletion (2) and purge (the mark and the removal).
	records := dynamotest.ReadStream(t, table, 19)
	handle(t, newDispatcher(t, store, relaxed, nil), records...)

	reader := readerAt(t, table, clk.Now)
	feed, _ := dynamotest.WalkEvents(t, reader, helpdesk.EventQuery{PageSize: 3})
	if len(feed) != len(want) {
		t.Fatalf("the feed holds %d events, want %d: %v", len(feed), len(want), dynamotest.EventIDs(feed))
	}
	seen := map[string]bool{}
	for i, e := range feed {
		w := want[i]
		body := dynamotest.EventBody(t, e)
		shown := body.Data.Ticket.ID
		if w.typ == events.TicketPurged {
			shown = body.Data.TicketID
		}
		if e.Type != w.typ || e.TicketID != w.ticket || body.Type != w.typ || shown != w.ticket {
			t.Fatalf("event %d is %s of %s (body: %s of %s), want %s of %s", i, e.Type, e.TicketID, body.Type, shown, w.typ, w.ticket)
		}
		if body.Actor != view.Actor(w.by) {
			t.Errorf("event %d (%s) names %+v, want %+v", i, w.typ, body.Actor, view.Actor(w.by))
		}
		if !body.Timestamp.Equal(w.at) || !e.CreatedAt.Equal(w.at) {
			t.Errorf("event %d (%s) happened at %v (stored %v), want %v", i, w.typ, body.Timestamp, e.CreatedAt, w.at)
		}
		seen[w.typ] = true
	}
	for _, typ := range events.Types {
		if !seen[typ] {
			t.Errorf("no %s in the feed", typ)
		}
	}
	deletion, err := store.Tombstone(t.Context(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if deleted := dynamotest.OfTicket(feed, tk.ID)[len(dynamotest.OfTicket(feed, tk.ID))-1]; !deleted.CreatedAt.Equal(deletion.At) || deleted.CreatedAt.Equal(lastUpdate) {
		t.Errorf("ticket.deleted happened at %v; want the tombstone's %v, not the last update's %v", deleted.CreatedAt, deletion.At, lastUpdate)
	}
	for _, id := range []string{tk.ID, other.ID} {
		history, _ := dynamotest.WalkEvents(t, reader, helpdesk.EventQuery{TicketID: id, History: true, PageSize: 2})
		if g, w := dynamotest.EventIDs(history), dynamotest.EventIDs(dynamotest.OfTicket(feed, id)); !slices.Equal(g, w) {
			t.Errorf("the history of %s is %v, want its events in the feed's order %v", id, g, w)
		}
	}
}

// TestActivityOrderUnderClockSkew: one function's clock runs three
// seconds ahead of another's. A ticket created and commented on by the first, then
// (the comment) redacted, updated and deleted by the second, keeps its
// events in the order of its changes in its history and in the feed, with
// times that never go back, though the second function stamps the
// redaction and the deletion before the changes they follow. The consumer
// keeps up, and its batches are cut between every two records, so that
// no batch holds two of the ticket's changes.
func TestActivityOrderUnderClockSkew(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	ahead, behind := helpdesk.NewService(store, store), helpdesk.NewService(store, store)
	// Three seconds, so that the consumer's own pace between the changes
	// cannot hide it.
	ahead.Now = dynamotest.Ahead(3 * time.Second)
	aheadConvo, behindConvo := helpdesk.NewConversations(store, store), helpdesk.NewConversations(store, store)
	aheadConvo.Now = dynamotest.Ahead(3 * time.Second)
	ctx := t.Context()
	d := newDispatcher(t, store, relaxed, nil)
	handled := 0
	// consume waits for the n records of the last change and hands each
	// to d in a batch of its own. The stream holds the recorded events
	// too; the stack's filter keeps them from the consumer.
	consume := func(n int) {
		t.Helper()
		var records []lambdaevents.DynamoDBEventRecord
		dynamotest.ReadStreamUntil(t, table, func(recs []lambdaevents.DynamoDBEventRecord) bool {
			records = slices.DeleteFunc(recs, func(r lambdaevents.DynamoDBEventRecord) bool { return !dynamo.IsTicketKey(r.Change.Keys) })
			return len(records) >= handled+n
		})
		if len(records) != handled+n {
			t.Fatalf("the stream holds %d ticket records, want %d", len(records), handled+n)
		}
		handleEach(t, d, records[handled:])
		handled = len(records)
	}

	tk, err := ahead.CreateTicket(ctx, &helpdesk.TicketPatch{Subject: new("Printer on fire")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	consume(1)
	c, _, err := aheadConvo.AddComment(ctx, tk.ID, &helpdesk.CommentDraft{Body: new("Card number 4111…"), AuthorEmail: helpdesk.Set("jane@example.com")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	consume(2) // the comment and its ticket's bump
	redacted, err := behindConvo.RedactComment(ctx, tk.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	consume(1)
	updated, err := behind.UpdateTicket(ctx, tk.ID, &helpdesk.TicketPatch{Status: new(helpdesk.StatusResolved)}, nil, helpdesk.Precondition{})
	if err != nil {
		t.Fatal(err)
	}
	consume(1)
	if err := behind.DeleteTicket(ctx, tk.ID, helpdesk.Precondition{}); err != nil {
		t.Fatal(err)
	}
	consume(2) // the removal and the tombstone
	deletion, err := store.Tombstone(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !redacted.RedactedAt.Before(c.CreatedAt) || !deletion.At.Before(updated.UpdatedAt) {
		t.Fatalf("the skew did not show: redacted at %v, commented at %v; deleted at %v, updated at %v (the test proves nothing)",
			redacted.RedactedAt, c.CreatedAt, deletion.At, updated.UpdatedAt)
	}

	reader := readerAt(t, table, dynamotest.Ahead(3*time.Second))
	want := []string{events.TicketCreated, events.TicketCommentCreated, events.TicketCommentRedacted, events.TicketUpdated, events.TicketDeleted}
	history, _ := dynamotest.WalkEvents(t, reader, helpdesk.EventQuery{TicketID: tk.ID, History: true, PageSize: 10})
	feed, _ := dynamotest.WalkEvents(t, reader, helpdesk.EventQuery{PageSize: 10})
	for name, evs := range map[string][]*helpdesk.StoredEvent{"history": history, "feed": feed} {
		var got []string
		for i, e := range evs {
			got = append(got, e.Type)
			if i > 0 && e.CreatedAt.Before(evs[i-1].CreatedAt) {
				t.Errorf("the %s: %s at %v after %s at %v", name, e.Type, e.CreatedAt, evs[i-1].Type, evs[i-1].CreatedAt)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("the %s holds %v, want %v", name, got, want)
		}
		if err := dynamotest.CheckTicketOrder(evs); err != nil {
			t.Errorf("the %s: %v", name, err)
		}
	}
}

// TestActivityRedeliveredBatch: a batch whose recording fails half way
// (the second BatchWriteItem of its events fails for good) is reported
// failed whole; what was written keeps its positions, so a reader that
// has walked past them is not given them again when the stream delivers
// the batch again, and gets the rest once. A third delivery of the same
// batch changes nothing.
func TestActivityRedeliveredBatch(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	var tickets []*helpdesk.Ticket
	for range 20 {
		tickets = append(tickets, dynamotest.CreateTicket(t, store, nil))
	}
	for _, tk := range tickets[:10] {
		dynamotest.UpdateTicket(t, store, tk.ID, func(tk *helpdesk.Ticket) { tk.AssigneeID = "usr_a" })
	}
	// 20 ticket.created, 10 ticket.updated and 10 ticket.assignment.changed:
	// two BatchWriteItem calls of events.
	records := dynamotest.ReadStream(t, table, 30)
	var want []string
	for _, rec := range records {
		want = append(want, dynamotest.EventIDs(produce(t, rec))...)
	}
	if len(want) != 40 {
		t.Fatalf("%d events, want 40", len(want))
	}

	// The consumer's clock, and the reader's, move only when told.
	clk := dynamotest.NewClock(time.Now().UTC().Truncate(time.Millisecond))
	db, faults := dynamotest.FaultyClient(t, 200*time.Millisecond)
	faulty := dynamotest.StoreOn(t, db, table)
	faulty.SetClock(clk.Now)
	faults.Add(
		dynamotest.Rule{Op: "BatchWriteItem", Times: 1, Before: func() {}}, // the first 25 events land
		dynamotest.Rule{Op: "BatchWriteItem", Fault: dynamotest.ServerError},
	)
	resp, err := newDispatcher(t, faulty, relaxed, nil).HandleStream(t.Context(), lambdaevents.DynamoDBEvent{Records: records})
	if err != nil || len(resp.BatchItemFailures) != len(records) {
		t.Fatalf("HandleStream with the second write failing = %d failures, %v; want all %d records failed", len(resp.BatchItemFailures), err, len(records))
	}

	clean := dynamotest.StoreOn(t, dynamotest.Client(t), table)
	clean.SetClock(clk.Now)
	walker := &dynamotest.EventWalker{Store: clean, Query: helpdesk.EventQuery{PageSize: 4}}
	clk.Add(dynamo.FeedSettle + time.Second)
	if n, err := walker.Walk(t.Context()); err != nil || n != 25 {
		t.Fatalf("the walk after the failed batch read %d events, %v; want the 25 written", n, err)
	}

	d := newDispatcher(t, clean, relaxed, nil)
	clk.Add(time.Second)
	handle(t, d, records...)
	clk.Add(time.Second)
	handle(t, d, records...)
	clk.Add(dynamo.FeedSettle + time.Second)
	if n, err := walker.Walk(t.Context()); err != nil || n != 15 {
		t.Fatalf("the walk after the batch was delivered again read %d events, %v; want the 15 not written before", n, err)
	}
	if err := dynamotest.CheckEventsOnce(walker.Events, want); err != nil {
		t.Fatal(err)
	}
	if err := dynamotest.CheckTicketOrder(walker.Events); err != nil {
		t.Fatal(err)
	}
	again, _ := dynamotest.WalkEvents(t, clean, helpdesk.EventQuery{PageSize: 100})
	if g, w := dynamotest.EventIDs(again), dynamotest.EventIDs(walker.Events); !slices.Equal(g, w) {
		t.Fatalf("a walk from the start reads\n%v\nthe walker read\n%v", g, w)
	}
}
