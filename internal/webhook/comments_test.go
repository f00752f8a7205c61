package webhook_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
	"github.com/acme/helpdesk/internal/webhook"
)

// TestCommentEvents writes a conversation through the domain's code path
// and feeds the table's stream to the dispatcher: each new comment is one
// ticket.comment.created showing the ticket the comment left, a customer's
// reply that reopens a ticket is a ticket.updated too, a plain bump is no
// ticket.updated, and a redaction is one ticket.comment.redacted.
func TestCommentEvents(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	recv := newReceiver(t, answer(http.StatusNoContent))
	hook := dynamotest.Subscribe(t, store, recv.URL+"/all", events.Types...)
	tk := dynamotest.CreateTicket(t, store, func(tk *helpdesk.Ticket) { tk.Status = helpdesk.StatusPending })
	convo := helpdesk.NewConversations(store, store)
	say := func(d helpdesk.CommentDraft) (*helpdesk.Comment, *helpdesk.Ticket) {
		t.Helper()
		c, after, err := convo.AddComment(t.Context(), tk.ID, &d, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c, after
	}
	agent, afterAgent := say(helpdesk.CommentDraft{Body: new("We are on it."), AuthorID: helpdesk.Set("usr_a")})
	customer, afterCustomer := say(helpdesk.CommentDraft{Body: new("Still broken."), AuthorEmail: helpdesk.Set("jane@example.com"), AuthorName: helpdesk.Set("Jane")})
	redacted, err := convo.RedactComment(t.Context(), tk.ID, customer.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The subscription, the ticket, two comments with a bump each, the
	// redaction.
	records := dynamotest.ReadStream(t, table, 7)
	d := newDispatcher(t, store, relaxed, nil)
	if resp, err := d.HandleStream(t.Context(), lambdaevents.DynamoDBEvent{Records: records}); err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("HandleStream = %+v, %v", resp, err)
	}
	var got []events.Event
	for _, req := range recv.requests() {
		if err := events.Verify(hook.Secret, req.header, req.body); err != nil {
			t.Fatal(err)
		}
		got = append(got, decodeEvent(t, req.body))
	}
	byType := map[string][]events.Event{}
	for _, ev := range got {
		byType[ev.Type] = append(byType[ev.Type], ev)
	}
	if n := len(byType[events.TicketCommentCreated]); n != 2 {
		t.Fatalf("%d ticket.comment.created, want 2 (events %v)", n, byType)
	}
	// The customer's comment is redacted in the same batch, so even its
	// first delivery carries the redacted comment.
	created := map[string]events.Event{} // by comment id: deliveries run concurrently
	for _, ev := range byType[events.TicketCommentCreated] {
		created[ev.Data.Comment.ID] = ev
	}
	for i, want := range []struct {
		c *helpdesk.Comment
		t *helpdesk.Ticket
	}{{agent, afterAgent}, {redacted, afterCustomer}} {
		ev := created[want.c.ID]
		if ev.Data.Comment == nil || mustJSON(t, ev.Data.Comment) != mustJSON(t, view.Comment(want.c)) || !ev.Timestamp.Equal(want.c.CreatedAt) || ev.ID != webhook.CreationEventID(want.c.ID) {
			t.Errorf("created %d: comment %+v at %v, want %+v", i, ev.Data.Comment, ev.Timestamp, view.Comment(want.c))
		}
		if b1, b2 := mustJSON(t, ev.Data.Ticket), mustJSON(t, view.Ticket(want.t)); b1 != b2 {
			t.Errorf("created %d: ticket %s, want the ticket the comment left %s", i, b1, b2)
		}
	}
	if ups := byType[events.TicketUpdated]; len(ups) != 1 || ups[0].Data.Previous["status"] != "pending" || ups[0].Data.Ticket.Status != "open" {
		t.Fatalf("ticket.updated %+v, want one, for the reopening (previous status pending)", ups)
	}
	if rs := byType[events.TicketCommentRedacted]; len(rs) != 1 || mustJSON(t, rs[0].Data.Comment) != mustJSON(t, view.Comment(redacted)) || rs[0].Data.Comment.Body != "" || !rs[0].Timestamp.Equal(redacted.RedactedAt) {
		t.Fatalf("ticket.comment.redacted %+v, want one showing the redacted comment", rs)
	}
	// The creation's recorded body, which retries and replays send, no
	// longer holds what was redacted; the ticket it showed is kept.
	recorded, err := store.Event(t.Context(), webhook.CreationEventID(customer.ID))
	if err != nil {
		t.Fatal(err)
	}
	ev := decodeEvent(t, recorded.Body)
	if ev.Data.Comment.Body != "" || ev.Data.Comment.RedactedAt == nil || ev.Type != events.TicketCommentCreated || mustJSON(t, ev.Data.Ticket) != mustJSON(t, view.Ticket(afterCustomer)) {
		t.Fatalf("the recorded creation after the redaction: %+v", ev)
	}
	if len(got) != 5 {
		t.Fatalf("%d events, want created (ticket), 2 comments, the reopening, the redaction", len(got))
	}
}

// TestCommentEventWithoutItsTicketRecord hands the dispatcher a comment's
// record in a batch of its own, as a batch boundary between the two records
// of the comment's transaction would: the event reads the ticket, which
// still shows the comment's write.
func TestCommentEventWithoutItsTicketRecord(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	recv := newReceiver(t, answer(http.StatusNoContent))
	dynamotest.Subscribe(t, store, recv.URL+"/c", events.TicketCommentCreated)
	tk := dynamotest.CreateTicket(t, store, nil)
	c, after, err := helpdesk.NewConversations(store, store).AddComment(t.Context(), tk.ID, &helpdesk.CommentDraft{Body: new("Hi"), AuthorID: helpdesk.Set("usr_a")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	records := dynamotest.ReadStream(t, table, 4)
	var alone []lambdaevents.DynamoDBEventRecord
	for _, rec := range records {
		if rec.Change.Keys["sk"].String() != "TICKET" && rec.EventName == "INSERT" && rec.Change.Keys["pk"].String() != "" && rec.Change.NewImage["body"].DataType() == lambdaevents.DataTypeString {
			alone = append(alone, rec)
		}
	}
	if len(alone) != 1 {
		t.Fatalf("found %d comment records", len(alone))
	}
	d := newDispatcher(t, store, relaxed, nil)
	if resp, err := d.HandleStream(t.Context(), lambdaevents.DynamoDBEvent{Records: alone}); err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("HandleStream = %+v, %v", resp, err)
	}
	reqs := recv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d deliveries, want 1", len(reqs))
	}
	ev := decodeEvent(t, reqs[0].body)
	if ev.Data.Comment.ID != c.ID || mustJSON(t, ev.Data.Ticket) != mustJSON(t, view.Ticket(after)) {
		t.Fatalf("event %+v, want comment %s and the ticket after it", ev, c.ID)
	}
}

// TestCommentEventOfTicketDeletedSince: the ticket is deleted before its
// comment's record is handled, and the batch boundary falls between the
// comment's and the deletion's records, so neither the table nor the batch
// holds the ticket. The event is still recorded, once, showing the ticket
// as its latest recorded event did, at the comment's time; it used to be
// dropped with a warning, a gap in the feed.
func TestCommentEventOfTicketDeletedSince(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	tk := dynamotest.CreateTicket(t, store, func(tk *helpdesk.Ticket) { tk.Subject = "Deleted soon" })
	created := dynamotest.ReadStream(t, table, 1)
	d := newDispatcher(t, store, relaxed, nil)
	if resp, err := d.HandleStream(t.Context(), lambdaevents.DynamoDBEvent{Records: created}); err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("HandleStream(creation) = %+v, %v", resp, err)
	}
	c, _, err := helpdesk.NewConversations(store, store).AddComment(t.Context(), tk.ID, &helpdesk.CommentDraft{Body: new("Hi"), AuthorID: helpdesk.Set("usr_a")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteTicket(t.Context(), tk.ID, helpdesk.Precondition{}, dynamotest.Deletion()); err != nil {
		t.Fatal(err)
	}
	// The creation, its recorded event, the comment and its ticket's
	// bump, the removal and the tombstone; the comment's record goes
	// alone.
	records := dynamotest.ReadStream(t, table, 6)
	var comment lambdaevents.DynamoDBEventRecord
	for _, rec := range records[1:] {
		if strings.HasPrefix(rec.Change.Keys["sk"].String(), "COMMENT#") {
			comment = rec
		}
	}
	for range 2 { // and redelivered: once all the same
		if resp, err := d.HandleStream(t.Context(), lambdaevents.DynamoDBEvent{Records: []lambdaevents.DynamoDBEventRecord{comment}}); err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("HandleStream(comment) = %+v, %v", resp, err)
		}
	}
	reader := dynamotest.SettledReader(t, table)
	history, _ := dynamotest.WalkEvents(t, reader, helpdesk.EventQuery{TicketID: tk.ID, PageSize: 10})
	if len(history) != 2 || history[1].Type != events.TicketCommentCreated {
		t.Fatalf("history %v, want the creation and the comment", dynamotest.EventIDs(history))
	}
	ev := dynamotest.EventBody(t, history[1])
	if ev.Data.Comment.ID != c.ID || ev.Data.Ticket.Subject != "Deleted soon" || ev.Data.Ticket.UpdatedAt != view.FormatTime(c.CreatedAt) {
		t.Fatalf("event %+v, want comment %s on the ticket as last recorded, at the comment's time", ev, c.ID)
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestRedactionReachesRecordedCreation redacts a comment whose creation
// was recorded (and failed its first attempt) by an earlier batch: the
// retry sends the redacted comment, with the same webhook-id.
func TestRedactionReachesRecordedCreation(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	recv := newReceiver(t, func(w http.ResponseWriter, hit int) {
		if hit == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	dynamotest.Subscribe(t, store, recv.URL+"/c", events.TicketCommentCreated)
	tk := dynamotest.CreateTicket(t, store, nil)
	convo := helpdesk.NewConversations(store, store)
	c, _, err := convo.AddComment(t.Context(), tk.ID, &helpdesk.CommentDraft{Body: new("my password is hunter2"), AuthorEmail: helpdesk.Set("jane@example.com")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	d := newDispatcher(t, store, relaxed, clk)
	first := dynamotest.ReadStream(t, table, 4)
	if resp, err := d.HandleStream(t.Context(), lambdaevents.DynamoDBEvent{Records: first}); err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("HandleStream = %+v, %v", resp, err)
	}
	if _, err := convo.RedactComment(t.Context(), tk.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	// The dispatcher's own writes are in the stream too; the redaction is
	// the comment's modification.
	redaction := func(recs []lambdaevents.DynamoDBEventRecord) bool {
		return slices.ContainsFunc(recs, func(r lambdaevents.DynamoDBEventRecord) bool {
			return r.EventName == "MODIFY" && strings.HasPrefix(r.Change.Keys["sk"].String(), "COMMENT#")
		})
	}
	later := dynamotest.RecordsAfter(t, dynamotest.ReadStreamUntil(t, table, redaction), first[len(first)-1].Change.SequenceNumber)
	if resp, err := d.HandleStream(t.Context(), lambdaevents.DynamoDBEvent{Records: later}); err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("HandleStream = %+v, %v", resp, err)
	}
	clk.Set(clk.Now().Add(time.Minute))
	if _, err := d.ProcessDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	reqs := recv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d attempts, want the failed first and the retry", len(reqs))
	}
	firstEv, retry := decodeEvent(t, reqs[0].body), decodeEvent(t, reqs[1].body)
	if firstEv.Data.Comment.Body != "my password is hunter2" || retry.ID != firstEv.ID || retry.Data.Comment.Body != "" || retry.Data.Comment.RedactedAt == nil {
		t.Fatalf("first %+v, retry %+v; want the retry of the same event, redacted", firstEv.Data.Comment, retry.Data.Comment)
	}
}

// TestRedactionJustBeforeDeletion redacts a comment and deletes its ticket
// before the dispatcher sees either: the redaction is still sent, with the
// ticket's last state.
func TestRedactionJustBeforeDeletion(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	recv := newReceiver(t, answer(http.StatusNoContent))
	dynamotest.Subscribe(t, store, recv.URL+"/r", events.TicketCommentRedacted)
	tk := dynamotest.CreateTicket(t, store, nil)
	convo := helpdesk.NewConversations(store, store)
	c, after, err := convo.AddComment(t.Context(), tk.ID, &helpdesk.CommentDraft{Body: new("secret"), AuthorID: helpdesk.Set("usr_a")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := convo.RedactComment(t.Context(), tk.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteTicket(t.Context(), tk.ID, helpdesk.Precondition{}, dynamotest.Deletion()); err != nil {
		t.Fatal(err)
	}
	// The subscription, the ticket, the comment and its bump, the
	// redaction, the deletion and its tombstone.
	records := dynamotest.ReadStream(t, table, 7)
	d := newDispatcher(t, store, relaxed, nil)
	if resp, err := d.HandleStream(t.Context(), lambdaevents.DynamoDBEvent{Records: records}); err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("HandleStream = %+v, %v", resp, err)
	}
	reqs := recv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d deliveries, want the redaction", len(reqs))
	}
	ev := decodeEvent(t, reqs[0].body)
	if ev.Type != events.TicketCommentRedacted || ev.Data.Comment.ID != c.ID || mustJSON(t, ev.Data.Ticket) != mustJSON(t, view.Ticket(after)) {
		t.Fatalf("event %+v, want the redaction with the ticket's last state", ev)
	}
}
