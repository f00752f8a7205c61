package dynamo_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// TestTrash: a deleted ticket is in the trash, newest deletion first and
// paged, and in no ticket list; a restore puts it back as it was (its
// next version, updated at the restore) and takes it out of the trash; a
// purge takes it out for good; neither works twice, nor on a ticket that
// is not in the trash.
func TestTrash(t *testing.T) {
	t.Parallel()
	store, _ := dynamotest.NewStore(t)
	ctx := t.Context()
	clk := dynamotest.NewClock(dynamotest.Now())
	trash := helpdesk.NewTrash(store)
	trash.Now = clk.Now
	var deleted []*helpdesk.Ticket
	for i := range 5 {
		tk := dynamotest.CreateTicket(t, store, func(tk *helpdesk.Ticket) { tk.Tags = []string{"n" + string(rune('0'+i))} })
		if err := store.DeleteTicket(ctx, tk.ID, helpdesk.Precondition{}, helpdesk.Stamp{At: clk.Add(time.Second), By: helpdesk.System}); err != nil {
			t.Fatal(err)
		}
		deleted = append(deleted, tk)
	}
	live := dynamotest.CreateTicket(t, store, nil)

	var listed []string
	q := helpdesk.TrashQuery{PageSize: 2}
	for {
		page, err := trash.DeletedTickets(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Tickets {
			listed = append(listed, d.Ticket.ID)
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	want := []string{deleted[4].ID, deleted[3].ID, deleted[2].ID, deleted[1].ID, deleted[0].ID}
	if !slices.Equal(listed, want) {
		t.Fatalf("the trash lists %v, want %v (newest deletion first)", listed, want)
	}
	page, err := store.ListTickets(ctx, helpdesk.ListQuery{SortBy: helpdesk.SortCreatedAt, Order: helpdesk.Desc, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Tickets) != 1 || page.Tickets[0].ID != live.ID {
		t.Fatalf("the ticket list holds %d tickets, want only the live one", len(page.Tickets))
	}

	at := clk.Add(time.Second)
	restored, err := trash.RestoreTicket(ctx, deleted[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	was := deleted[2]
	if restored.Version != was.Version+1 || !restored.UpdatedAt.Equal(at) || !restored.SameContent(was) || !restored.CreatedAt.Equal(was.CreatedAt) {
		t.Errorf("restored %+v, want %+v at its next version, updated at %v", restored, was, at)
	}
	got, err := store.Ticket(ctx, was.ID)
	if err != nil || got.Version != restored.Version {
		t.Fatalf("the restored ticket reads %+v, %v", got, err)
	}
	if err := trash.PurgeTicket(ctx, deleted[0].ID); err != nil {
		t.Fatal(err)
	}
	// A restore at the very time and by the very actor of the last one
	// would read as its retry, whose answer was lost.
	clk.Add(time.Millisecond)
	for name, err := range map[string]error{
		"restore of a restored ticket": second(trash.RestoreTicket(ctx, deleted[2].ID)),
		"purge of a restored ticket":   trash.PurgeTicket(ctx, deleted[2].ID),
		"restore of a purged ticket":   second(trash.RestoreTicket(ctx, deleted[0].ID)),
		"purge of a purged ticket":     trash.PurgeTicket(ctx, deleted[0].ID),
		"restore of a live ticket":     second(trash.RestoreTicket(ctx, live.ID)),
		"purge of a live ticket":       trash.PurgeTicket(ctx, live.ID),
		"restore of no ticket":         second(trash.RestoreTicket(ctx, helpdesk.NewID("tkt_"))),
		"restore of a malformed id":    second(trash.RestoreTicket(ctx, "tkt_../x")),
	} {
		if helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
			t.Errorf("%s: %v, want NOT_FOUND", name, err)
		}
	}
	page2, err := trash.DeletedTickets(ctx, helpdesk.TrashQuery{PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page2.Tickets) != 3 {
		t.Errorf("the trash holds %d tickets after a restore and a purge, want 3", len(page2.Tickets))
	}

	// Past the retention the entries are gone, though DynamoDB's TTL has
	// not removed them yet.
	clk.Set(clk.Now().Add(helpdesk.TrashRetention))
	if page, err := trash.DeletedTickets(ctx, helpdesk.TrashQuery{PageSize: 10}); err != nil || len(page.Tickets) != 0 {
		t.Errorf("the trash after 30 days: %d tickets, %v; want none", len(page.Tickets), err)
	}
	if _, err := trash.RestoreTicket(ctx, deleted[1].ID); helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
		t.Errorf("restore after 30 days: %v, want NOT_FOUND", err)
	}
	if _, err := trash.DeletedTickets(ctx, helpdesk.TrashQuery{PageSize: 10, After: "bm90IGEgY3Vyc29y"}); helpdesk.ErrorCode(err) != helpdesk.CodeBadRequest {
		t.Errorf("a forged cursor: %v, want BAD_REQUEST", err)
	}
}

// TestTrashRaces: a deletion racing updates deletes the version it read
// or reads again, so the trash holds the ticket's last state; a restore
// racing a purge of the same ticket: exactly one wins, and the loser is
// NOT_FOUND.
func TestTrashRaces(t *testing.T) {
	t.Parallel()
	store, _ := dynamotest.NewStore(t)
	ctx := t.Context()
	trash := helpdesk.NewTrash(store)
	svc := helpdesk.NewService(store, store)
	for range 5 {
		tk := dynamotest.CreateTicket(t, store, nil)
		var wg sync.WaitGroup
		var last *helpdesk.Ticket
		wg.Go(func() {
			for i := range 5 {
				got, err := svc.UpdateTicket(ctx, tk.ID, &helpdesk.TicketPatch{Subject: new("edit " + string(rune('a'+i)))}, nil, helpdesk.Precondition{})
				if err == nil {
					last = got
				}
			}
		})
		wg.Go(func() {
			if err := svc.DeleteTicket(ctx, tk.ID, helpdesk.Precondition{}); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		page, err := trash.DeletedTickets(ctx, helpdesk.TrashQuery{PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		var inTrash *helpdesk.Ticket
		for _, d := range page.Tickets {
			if d.Ticket.ID == tk.ID {
				inTrash = d.Ticket
			}
		}
		if inTrash == nil || (last != nil && inTrash.Version < last.Version) {
			t.Fatalf("the trash holds %+v, want the ticket at version %v or later", inTrash, last)
		}

		var restoreErr, purgeErr error
		wg.Go(func() { _, restoreErr = trash.RestoreTicket(ctx, tk.ID) })
		wg.Go(func() { purgeErr = trash.PurgeTicket(ctx, tk.ID) })
		wg.Wait()
		_, getErr := store.Ticket(ctx, tk.ID)
		switch {
		case restoreErr == nil && helpdesk.ErrorCode(purgeErr) == helpdesk.CodeNotFound && getErr == nil:
		case purgeErr == nil && helpdesk.ErrorCode(restoreErr) == helpdesk.CodeNotFound && helpdesk.ErrorCode(getErr) == helpdesk.CodeNotFound:
		default:
			t.Fatalf("restore %v, purge %v, then the ticket reads %v: want exactly one to win", restoreErr, purgeErr, getErr)
		}
	}
}

// TestPurgeOf: the removal of a tombstone is a purge unless a restore
// marked it and DynamoDB's TTL did not make it; a purge's mark names the
// purger.
func TestPurgeOf(t *testing.T) {
	t.Parallel()
	keys := map[string]lambdaevents.DynamoDBAttributeValue{
		"pk": lambdaevents.NewStringAttribute(dynamo.TicketKeyPrefix + "tkt_aaaaaaaaaaaaaaaaaaaaaaaa"),
		"sk": lambdaevents.NewStringAttribute("DELETED"),
	}
	image := func(extra map[string]string) map[string]lambdaevents.DynamoDBAttributeValue {
		im := map[string]lambdaevents.DynamoDBAttributeValue{
			"pk": keys["pk"], "sk": keys["sk"],
			"deletedAt": lambdaevents.NewStringAttribute("2026-11-01T10:00:00.000Z"), "expiresAt": lambdaevents.NewNumberAttribute("1790000000"),
		}
		for k, v := range extra {
			im[k] = lambdaevents.NewStringAttribute(v)
		}
		return im
	}
	ttl := &lambdaevents.DynamoDBUserIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		image   map[string]lambdaevents.DynamoDBAttributeValue
		who     *lambdaevents.DynamoDBUserIdentity
		purge   bool
		byPurge bool
	}{
		{"unmarked: the TTL as tests stand in for it", image(nil), nil, true, false},
		{"unmarked, by the TTL", image(nil), ttl, true, false},
		{"restoring", image(map[string]string{"restoringAt": "2026-11-02T10:00:00.000Z"}), nil, false, false},
		{"restoring, half done, then the TTL", image(map[string]string{"restoringAt": "2026-11-02T10:00:00.000Z"}), ttl, true, false},
		{"purged", image(map[string]string{"purgedAt": "2026-11-03T10:00:00.000Z", "purgedByType": "api_key", "purgedById": "key_x", "purgedByName": "ops"}), nil, true, true},
		{"purged while restoring", image(map[string]string{"restoringAt": "2026-11-02T10:00:00.000Z", "purgedAt": "2026-11-03T10:00:00.000Z", "purgedByType": "system"}), nil, true, true},
	} {
		rec := lambdaevents.DynamoDBEventRecord{EventName: "REMOVE", UserIdentity: c.who, Change: lambdaevents.DynamoDBStreamRecord{
			Keys: keys, OldImage: c.image, ApproximateCreationDateTime: lambdaevents.SecondsEpochTime{Time: at},
		}}
		id, stamp, ok, err := dynamo.PurgeOf(rec)
		if err != nil || ok != c.purge || (ok && id != "tkt_aaaaaaaaaaaaaaaaaaaaaaaa") {
			t.Errorf("%s: PurgeOf = %q, %v, %v; want a purge: %v", c.name, id, ok, err, c.purge)
			continue
		}
		switch {
		case !ok:
		case c.byPurge && stamp.At.Equal(at):
			t.Errorf("%s: purged at the record's time, want the mark's", c.name)
		case !c.byPurge && (stamp.By != helpdesk.System || !stamp.At.Equal(at)):
			t.Errorf("%s: purged by %+v at %v, want the system at the record's time", c.name, stamp.By, stamp.At)
		}
	}
	insert := lambdaevents.DynamoDBEventRecord{EventName: "INSERT", Change: lambdaevents.DynamoDBStreamRecord{Keys: keys, NewImage: image(nil)}}
	if _, _, ok, _ := dynamo.PurgeOf(insert); ok {
		t.Error("a tombstone's insert reads as a purge")
	}
}

func second[T any](_ T, err error) error { return err }
