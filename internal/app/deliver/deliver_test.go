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

func TestMain(m *testing.M) { dynamotest.Main(m) }

// TestStreamConsumerPurgesComments deletes a ticket with a conversation
// and feeds the stream to the consumer the dispatch function runs: the
// comments stay while the ticket is in the trash; once it is purged they
// are purged too, nothing of the ticket is left, and a purge that fails
// reports its record for the stream to deliver again.
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
	left := func() int { return len(dynamotest.TicketPartition(t, dynamotest.Client(t), table, tk.ID)) }
	consume := deliver.StreamConsumer(sys, deliver.Dispatcher(sys))
	// The ticket's insert, 30 comments with 30 bumps, the removal and the
	// tombstone.
	records := dynamotest.ReadStream(t, table, 63)
	if resp, err := consume(t.Context(), lambdaevents.DynamoDBEvent{Records: records}); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("the records up to the deletion: %+v, %v", resp, err)
	}
	if n := left(); n != 31 {
		t.Fatalf("%d items left in the trash, want the 30 comments and the tombstone", n)
	}

	if err := sys.Trash.PurgeTicket(t.Context(), tk.ID); err != nil {
		t.Fatal(err)
	}
	// The purge's mark on the tombstone, and its removal, among what
	// the consumer recorded (which the stack's filter keeps from it).
	var purge lambdaevents.DynamoDBEventRecord
	dynamotest.ReadStreamUntil(t, table, func(recs []lambdaevents.DynamoDBEventRecord) bool {
		for _, rec := range recs {
			if _, _, ok, err := dynamo.PurgeOf(rec); err == nil && ok {
				purge = rec
			}
		}
		return purge.EventID != ""
	})
	// Both the purge and the recording of ticket.purged fail: the record
	// is reported once.
	faults.Add(dynamotest.Rule{Op: "BatchWriteItem", Fault: dynamotest.Throttling})
	resp, err := consume(t.Context(), lambdaevents.DynamoDBEvent{Records: []lambdaevents.DynamoDBEventRecord{purge}})
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != purge.Change.SequenceNumber {
		t.Fatalf("with the purge throttled: %+v, %v; want the purge's record reported once", resp, err)
	}
	if n := left(); n != 30 {
		t.Fatalf("%d items left after a failed purge, want the 30 comments", n)
	}
	faults.Clear()
	for range 2 { // the redelivery, and once more: the purge is idempotent
		if resp, err := consume(t.Context(), lambdaevents.DynamoDBEvent{Records: []lambdaevents.DynamoDBEventRecord{purge}}); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("redelivered purge: %+v, %v", resp, err)
		}
	}
	if n := left(); n != 0 {
		t.Fatalf("%d items of the purged ticket are left, want none", n)
	}
}
