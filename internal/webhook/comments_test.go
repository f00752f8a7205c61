package webhook_test

import (
	"encoding/json"
	"net/http"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
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
	for i, want := range []struct {
		c *helpdesk.Comment
		t *helpdesk.Ticket
	}{{agent, afterAgent}, {customer, afterCustomer}} {
		ev := byType[events.TicketCommentCreated][i]
		if ev.Data.Comment == nil || mustJSON(t, ev.Data.Comment) != mustJSON(t, view.Comment(want.c)) || !ev.Timestamp.Equal(want.c.CreatedAt) {
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

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
