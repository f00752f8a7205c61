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

// TestTrashLifecycle: the local stack's stream consumer records a deleted
// ticket's history, which reads as before while the ticket is in the
// trash, its comment kept beside the tombstone. A restore brings the
// ticket back with its comment and history, and ticket.restored. A
// purge, requested or by expiry (30 days after the deletion), makes the
// consumer delete the ticket's comments and recorded events: nothing is
// left in its partition, its history is CodeNotFound, and the feed holds
// only its ticket.purged, which names nothing but its id. Another
// ticket's history is untouched.
func TestTrashLifecycle(t *testing.T) {
	t.Parallel()
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	store := dynamotest.StoreOn(t, dynamotest.Client(t), table)
	svc, convo, trash := helpdesk.NewService(store, store), helpdesk.NewConversations(store, store), helpdesk.NewTrash(store)
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
	partition := func(id string) int { return len(dynamotest.TicketPartition(t, dynamotest.Client(t), table, id)) }

	purged, err := svc.CreateTicket(ctx, &helpdesk.TicketPatch{Subject: new("Printer on fire")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := svc.CreateTicket(ctx, &helpdesk.TicketPatch{Subject: new("Paper jam")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := svc.CreateTicket(ctx, &helpdesk.TicketPatch{Subject: new("Toner low")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateTicket(ctx, purged.ID, &helpdesk.TicketPatch{Status: new(helpdesk.StatusOpen)}, nil, helpdesk.Precondition{}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{purged.ID, expired.ID} {
		if _, _, err := convo.AddComment(ctx, id, &helpdesk.CommentDraft{Body: new("On it."), AuthorID: helpdesk.Set("usr_a")}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Recorded before the deletion, so that no batch boundary between the
	// comment's two records can leave its event without its ticket.
	eventually(t, "the comment recorded", has(purged.ID, events.TicketCreated, events.TicketUpdated, events.TicketCommentCreated))
	eventually(t, "the other comment recorded", has(expired.ID, events.TicketCreated, events.TicketCommentCreated))
	if err := svc.DeleteTicket(ctx, purged.ID, helpdesk.Precondition{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted ticket's history", has(purged.ID, events.TicketCreated, events.TicketUpdated, events.TicketCommentCreated, events.TicketDeleted))
	if n := partition(purged.ID); n != 2 {
		t.Fatalf("the trashed ticket's partition holds %d items, want its tombstone and its comment", n)
	}

	restored, err := trash.RestoreTicket(ctx, purged.ID)
	if err != nil {
		t.Fatal(err)
	}
	if restored.Subject != purged.Subject || restored.Status != helpdesk.StatusOpen || restored.Comments != 1 {
		t.Errorf("restored %+v, want the ticket as it was deleted", restored)
	}
	page, err := convo.ListComments(ctx, helpdesk.CommentQuery{TicketID: purged.ID, PageSize: 10})
	if err != nil || len(page.Comments) != 1 {
		t.Fatalf("the restored ticket's comments: %v, %v; want its one comment", page, err)
	}
	eventually(t, "ticket.restored recorded", has(purged.ID, events.TicketCreated, events.TicketUpdated, events.TicketCommentCreated, events.TicketDeleted, events.TicketRestored))

	for _, id := range []string{purged.ID, expired.ID} {
		if err := svc.DeleteTicket(ctx, id, helpdesk.Precondition{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the second deletion recorded", has(purged.ID, events.TicketCreated, events.TicketUpdated, events.TicketCommentCreated, events.TicketDeleted, events.TicketRestored, events.TicketDeleted))
	eventually(t, "the other deletion recorded", has(expired.ID, events.TicketCreated, events.TicketCommentCreated, events.TicketDeleted))
	feed, _ := dynamotest.WalkEvents(t, activity.Events, helpdesk.EventQuery{PageSize: 10})
	recorded := dynamotest.EventIDs(append(dynamotest.OfTicket(feed, purged.ID), dynamotest.OfTicket(feed, expired.ID)...))
	if len(recorded) != 9 {
		t.Fatalf("the feed holds %d events of the deleted tickets, want 9", len(recorded))
	}

	if err := trash.PurgeTicket(ctx, purged.ID); err != nil {
		t.Fatal(err)
	}
	dynamotest.ExpireTombstone(t, dynamotest.Client(t), table, expired.ID)
	eventually(t, "the comments purged", func() bool { return partition(purged.ID) == 0 && partition(expired.ID) == 0 })
	eventually(t, "the histories purged", func() bool {
		for _, id := range recorded {
			if _, err := store.Event(ctx, id); helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
				return false
			}
		}
		return true
	})
	for _, id := range []string{purged.ID, expired.ID} {
		if _, err := history(id); helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
			t.Errorf("the history of purged %s: %v, want NOT_FOUND", id, err)
		}
		if _, err := trash.RestoreTicket(ctx, id); helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
			t.Errorf("restore of purged %s: %v, want NOT_FOUND", id, err)
		}
	}
	eventually(t, "the feed holds only the purges", func() bool {
		feed, _ := dynamotest.WalkEvents(t, activity.Events, helpdesk.EventQuery{PageSize: 10})
		for id, by := range map[string]events.Actor{purged.ID: {Type: events.ActorSystem}, expired.ID: {Type: events.ActorSystem}} {
			left := dynamotest.OfTicket(feed, id)
			if len(left) != 1 || left[0].Type != events.TicketPurged {
				return false
			}
			ev := dynamotest.EventBody(t, left[0])
			if ev.Data.TicketID != id || ev.Data.Ticket.ID != "" || (id == expired.ID && ev.Actor != by) {
				t.Fatalf("ticket.purged of %s: %+v", id, ev)
			}
		}
		return true
	})
	if !has(kept.ID, events.TicketCreated)() {
		t.Error("the other ticket's history changed")
	}
}
