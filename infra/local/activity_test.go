package local_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// TestTombstoneExpiryPurgesHistory: the local stack's stream consumer
// records a deleted ticket's history, which reads as before while the
// ticket's tombstone is kept. When the tombstone expires (30 days after
// the deletion), the consumer deletes the ticket's recorded events: they
// leave the feed, and the history is CodeNotFound. Another ticket's
// history is untouched.
func TestTombstoneExpiryPurgesHistory(t *testing.T) {
	t.Parallel()
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	store := dynamotest.StoreOn(t, dynamotest.Client(t), table)
	svc, convo := helpdesk.NewService(store, store), helpdesk.NewConversations(store, store)
	startDispatcher(t, table, filepath.Join(t.TempDir(), "stream.checkpoint"), time.Now, nil)
	ctx := t.Context()
	activity := helpdesk.NewActivity(dynamotest.SettledReader(t, table))
	history := func(id string) ([]string, error) {
		w := &dynamotest.EventWalker{Store: activity.Events, Query: helpdesk.EventQuery{TicketID: id, History: true, PageSize: 3}}
		_, err := w.Walk(ctx)
		var types []string
		for _, e := range w.Events {
			types = append(types, e.Type)
		}
		return types, err
	}
	has := func(id string, want ...string) func() bool {
		return func() bool {
			got, err := history(id)
			return err == nil && slices.Equal(got, want)
		}
	}

	gone, err := svc.CreateTicket(ctx, &helpdesk.TicketPatch{Subject: new("Printer on fire")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := svc.CreateTicket(ctx, &helpdesk.TicketPatch{Subject: new("Toner low")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateTicket(ctx, gone.ID, &helpdesk.TicketPatch{Status: new(helpdesk.StatusOpen)}, nil, helpdesk.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := convo.AddComment(ctx, gone.ID, &helpdesk.CommentDraft{Body: new("On it."), AuthorID: helpdesk.Set("usr_a")}, nil, nil); err != nil {
		t.Fatal(err)
	}
	// Recorded before the deletion, so that no batch boundary between the
	// comment's two records can leave its event without its ticket.
	eventually(t, "the comment recorded", has(gone.ID, events.TicketCreated, events.TicketUpdated, events.TicketCommentCreated))
	if err := svc.DeleteTicket(ctx, gone.ID, helpdesk.Precondition{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted ticket's history", has(gone.ID, events.TicketCreated, events.TicketUpdated, events.TicketCommentCreated, events.TicketDeleted))
	eventually(t, "the kept ticket's history", has(kept.ID, events.TicketCreated))
	// The consumer has purged the comment: the tombstone is all that is left.
	eventually(t, "the comment purged", func() bool { return len(dynamotest.TicketPartition(t, dynamotest.Client(t), table, gone.ID)) == 1 })
	feed, _ := dynamotest.WalkEvents(t, activity.Events, helpdesk.EventQuery{PageSize: 10})
	purged := dynamotest.EventIDs(dynamotest.OfTicket(feed, gone.ID))
	if len(purged) != 4 {
		t.Fatalf("the feed holds %d events of the deleted ticket, want 4", len(purged))
	}

	dynamotest.ExpireTombstone(t, dynamotest.Client(t), table, gone.ID)
	eventually(t, "the history purged", func() bool {
		for _, id := range purged {
			if _, err := store.Event(ctx, id); helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
				return false
			}
		}
		return true
	})
	if _, err := history(gone.ID); helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
		t.Errorf("the history after the tombstone expired: %v, want NOT_FOUND", err)
	}
	feed, _ = dynamotest.WalkEvents(t, activity.Events, helpdesk.EventQuery{PageSize: 10})
	if n := len(dynamotest.OfTicket(feed, gone.ID)); n != 0 {
		t.Errorf("the feed still holds %d events of the purged ticket", n)
	}
	if !has(kept.ID, events.TicketCreated)() {
		t.Error("the other ticket's history changed")
	}
}
