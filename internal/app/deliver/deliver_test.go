package deliver_test

import (
	"log/slog"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/app/deliver"
	"github.com/acme/helpdesk/internal/config"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// TestStreamConsumerPurgesComments deletes a ticket with a conversation
// and feeds the stream to the consumer the dispatch function runs: the
// comments are purged, nothing of the ticket is left, and a purge that
// fails reports its record for the stream to deliver again.
func TestMain(m *testing.M) { dynamotest.Main(m) }

func TestStreamConsumerPurgesComments(t *testing.T) {
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	db, faults := dynamotest.FaultyClient(t, 300*time.Millisecond)
	sys, err := app.New(config.Config{Table: table, WebhookAllowPrivate: true}, app.Clients{DynamoDB: db}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	tk := dynamotest.CreateTicket(t, sys.Store, nil)
	for range 30 {
		if _, _, err := sys.Conversations.AddComment(t.Context(), tk.ID, &helpdesk.CommentDraft{Body: new("hello"), AuthorID: helpdesk.Set("usr_a")}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := sys.Store.DeleteTicket(t.Context(), tk.ID, helpdesk.Precondition{}, dynamotest.Deletion()); err != nil {
		t.Fatal(err)
	}
	// The ticket's insert, 30 comments with 30 bumps, the removal and the
	// tombstone (in either order: one transaction wrote them).
	records := dynamotest.ReadStream(t, table, 63)
	var removal lambdaevents.DynamoDBEventRecord
	var rest []lambdaevents.DynamoDBEventRecord
	for _, rec := range records {
		if _, ok := dynamo.IsTicketRemoval(rec); ok {
			removal = rec
		} else {
			rest = append(rest, rec)
		}
	}
	left := func() int { return len(dynamotest.TicketPartition(t, dynamotest.Client(t), table, tk.ID)) }
	consume := deliver.StreamConsumer(sys, deliver.Dispatcher(sys))

	if resp, err := consume(t.Context(), lambdaevents.DynamoDBEvent{Records: rest}); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("the records before the removal: %+v, %v", resp, err)
	}
	// Both the purge and the recording of ticket.deleted fail: the record
	// is reported once.
	faults.Add(dynamotest.Rule{Op: "BatchWriteItem", Fault: dynamotest.Throttling})
	resp, err := consume(t.Context(), lambdaevents.DynamoDBEvent{Records: []lambdaevents.DynamoDBEventRecord{removal}})
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != removal.Change.SequenceNumber {
		t.Fatalf("with the purge throttled: %+v, %v; want the removal's record reported once", resp, err)
	}
	if n := left(); n != 31 {
		t.Fatalf("%d items left after a failed purge, want the 30 comments and the tombstone", n)
	}
	faults.Clear()
	for range 2 { // the redelivery, and once more: the purge is idempotent
		if resp, err := consume(t.Context(), lambdaevents.DynamoDBEvent{Records: []lambdaevents.DynamoDBEventRecord{removal}}); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("redelivered removal: %+v, %v", resp, err)
		}
	}
	if n := left(); n != 1 {
		t.Fatalf("%d items of the deleted ticket are left, want only its tombstone", n)
	}
}
