package webhook_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"reflect"
	"regexp"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
	"github.com/acme/helpdesk/internal/webhook"
)

var eventIDPattern = regexp.MustCompile(`^evt_[a-z2-7]{26}$`)

func TestProduceFromStream(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	ctx := t.Context()

	agent := helpdesk.Actor{Type: helpdesk.ActorAPIKey, ID: "key_agent", Name: "agent desk"}
	bot := helpdesk.Actor{Type: helpdesk.ActorAPIKey, ID: "key_bot", Name: "triage bot"}
	created := dynamotest.CreateTicket(t, store, func(tk *helpdesk.Ticket) {
		tk.ChangedBy = agent
		tk.Tags = []string{"printer"}
		tk.RequesterEmail = "ada@example.com"
		tk.RequesterName = "Ada"
		tk.CustomFields = []helpdesk.CustomFieldValue{
			{ID: "cf_aaaaaaaaaaaaaaaaaaaaaaaa", Value: "floor 3"},
			{ID: "cf_bbbbbbbbbbbbbbbbbbbbbbbb", Value: helpdesk.Number("2.5")},
			{ID: "cf_cccccccccccccccccccccccc", Value: true},
		}
	})
	createdView := view.Ticket(created)
	retagged := dynamotest.UpdateTicket(t, store, created.ID, func(tk *helpdesk.Ticket) {
		tk.ChangedBy = bot
		tk.Status = helpdesk.StatusOpen
		tk.Tags = []string{"printer", "urgent"}
	})
	retaggedView := view.Ticket(retagged)
	assigned := dynamotest.UpdateTicket(t, store, created.ID, func(tk *helpdesk.Ticket) { tk.AssigneeID = "usr_alice" })
	assignedView := view.Ticket(assigned)
	reassigned := dynamotest.UpdateTicket(t, store, created.ID, func(tk *helpdesk.Ticket) { tk.AssigneeID = "usr_bob" })
	reassignedView := view.Ticket(reassigned)
	touched := dynamotest.UpdateTicket(t, store, created.ID, nil) // updatedAt and version only
	touchedView := view.Ticket(touched)
	// Deleted with a time of its own, well after the last update, so that
	// the event's timestamp is seen to be the deletion's.
	del := helpdesk.Stamp{At: touched.UpdatedAt.Add(90 * time.Second), By: helpdesk.Actor{Type: helpdesk.ActorAPIKey, ID: "key_ops", Name: "ops"}}
	if err := store.DeleteTicket(ctx, created.ID, helpdesk.Precondition{}, del); err != nil {
		t.Fatal(err)
	}
	deletedAt := time.Now()
	key := &helpdesk.APIKey{ID: helpdesk.NewID("key_"), Name: "ci", Permission: helpdesk.PermRead, Hash: sha256.Sum256([]byte("k")), CreatedAt: dynamotest.Now()}
	if err := store.CreateAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	dynamotest.Subscribe(t, store, "https://example.com/hook", events.Types...)

	// The key is two items written together: the key and its id's
	// pointer.
	recs := dynamotest.ReadStream(t, table, 10)
	// The deletion's transaction wrote two records, in an order the stream
	// does not promise: the ticket's removal and its tombstone.
	remove, tomb := 5, 6
	if recs[5].EventName != string(lambdaevents.DynamoDBOperationTypeRemove) {
		remove, tomb = 6, 5
	}

	type want struct {
		typ      string
		ticket   events.Ticket
		at       time.Time
		actor    helpdesk.Actor
		previous map[string]any
	}
	cases := []struct {
		name      string
		rec       int
		eventName lambdaevents.DynamoDBOperationType
		want      []want
	}{
		{"insert", 0, lambdaevents.DynamoDBOperationTypeInsert, []want{
			{events.TicketCreated, createdView, created.CreatedAt, agent, nil},
		}},
		// The store keeps the actor a write names; the later updates name
		// none of their own, so the bot's stays.
		{"modify status and tags", 1, lambdaevents.DynamoDBOperationTypeModify, []want{
			{events.TicketUpdated, retaggedView, retagged.UpdatedAt, bot, map[string]any{"status": "new", "tags": []any{"printer"}}},
		}},
		{"assign", 2, lambdaevents.DynamoDBOperationTypeModify, []want{
			{events.TicketUpdated, assignedView, assigned.UpdatedAt, bot, map[string]any{"assigneeId": nil}},
			{events.TicketAssignmentChanged, assignedView, assigned.UpdatedAt, bot, map[string]any{"assigneeId": nil}},
		}},
		{"reassign", 3, lambdaevents.DynamoDBOperationTypeModify, []want{
			{events.TicketUpdated, reassignedView, reassigned.UpdatedAt, bot, map[string]any{"assigneeId": "usr_alice"}},
			{events.TicketAssignmentChanged, reassignedView, reassigned.UpdatedAt, bot, map[string]any{"assigneeId": "usr_alice"}},
		}},
		{"modify of updatedAt and version only", 4, lambdaevents.DynamoDBOperationTypeModify, nil},
		{"remove", remove, lambdaevents.DynamoDBOperationTypeRemove, []want{
			{events.TicketDeleted, touchedView, del.At, del.By, nil},
		}},
		{"tombstone", tomb, lambdaevents.DynamoDBOperationTypeInsert, nil},
		{"api key item", 7, lambdaevents.DynamoDBOperationTypeInsert, nil},
		{"api key pointer", 8, lambdaevents.DynamoDBOperationTypeInsert, nil},
		{"webhook item", 9, lambdaevents.DynamoDBOperationTypeInsert, nil},
	}
	// produceWith gives the removal its tombstone, as the dispatcher does.
	produceWith := func(t *testing.T, i int) []*helpdesk.StoredEvent {
		if i != remove {
			return produce(t, recs[i])
		}
		evs, err := webhook.Produce(recs[i], &del)
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := recs[tc.rec]
			if rec.EventName != string(tc.eventName) {
				t.Fatalf("record %d is %s, want %s", tc.rec, rec.EventName, tc.eventName)
			}
			evs := produceWith(t, tc.rec)
			if len(evs) != len(tc.want) {
				t.Fatalf("Produce gave %d events, want %d: %v", len(evs), len(tc.want), evs)
			}
			for i, w := range tc.want {
				ev := evs[i]
				body := decodeEvent(t, ev.Body)
				if ev.Type != w.typ || body.Type != w.typ {
					t.Errorf("event %d: type %s (body %s), want %s", i, ev.Type, body.Type, w.typ)
				}
				if !eventIDPattern.MatchString(ev.ID) || body.ID != ev.ID {
					t.Errorf("event %d: id %q (body %q), want evt_ and 26 base32 characters, the same in both", i, ev.ID, body.ID)
				}
				if !reflect.DeepEqual(body.Data.Ticket, w.ticket) {
					t.Errorf("event %d: data.ticket =\n%+v\nwant\n%+v", i, body.Data.Ticket, w.ticket)
				}
				if !reflect.DeepEqual(body.Data.Previous, w.previous) {
					t.Errorf("event %d: data.previous = %#v, want %#v", i, body.Data.Previous, w.previous)
				}
				if !body.Timestamp.Equal(ev.CreatedAt) {
					t.Errorf("event %d: timestamp %v, stored CreatedAt %v", i, body.Timestamp, ev.CreatedAt)
				}
				if !body.Timestamp.Equal(w.at) {
					t.Errorf("event %d: timestamp %v, want %v", i, body.Timestamp, w.at)
				}
				if body.Actor != view.Actor(w.actor) {
					t.Errorf("event %d: actor %+v, want %+v", i, body.Actor, view.Actor(w.actor))
				}
				if ev.TicketID != created.ID || ev.Order == "" {
					t.Errorf("event %d: ticket %q order %q, want the ticket's id and an order", i, ev.TicketID, ev.Order)
				}
			}
		})
	}

	t.Run("remove without a tombstone", func(t *testing.T) {
		// A ticket deleted before tombstones were kept: the system's
		// deletion, at the stream's ApproximateCreationDateTime, which is
		// rounded down (to the second by DynamoDB, to the minute by
		// DynamoDB Local) but never shown before the last update.
		evs := produce(t, recs[remove])
		if len(evs) != 1 {
			t.Fatalf("%d events, want 1", len(evs))
		}
		body := decodeEvent(t, evs[0].Body)
		if body.Timestamp.Before(touched.UpdatedAt) || body.Timestamp.After(deletedAt) || body.Actor != view.Actor(helpdesk.System) {
			t.Errorf("timestamp %v actor %+v, want between %v and %v, by the system", body.Timestamp, body.Actor, touched.UpdatedAt, deletedAt)
		}
	})

	t.Run("same record twice", func(t *testing.T) {
		for i, rec := range recs {
			first, again := produce(t, rec), produce(t, rec)
			// Lambda hands the function a record decoded from JSON.
			b, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			var redelivered lambdaevents.DynamoDBEventRecord
			if err := json.Unmarshal(b, &redelivered); err != nil {
				t.Fatal(err)
			}
			for _, other := range [][]*helpdesk.StoredEvent{again, produce(t, redelivered)} {
				if len(other) != len(first) {
					t.Fatalf("record %d: %d events, then %d", i, len(first), len(other))
				}
				for j := range first {
					if first[j].ID != other[j].ID || first[j].Type != other[j].Type || !bytes.Equal(first[j].Body, other[j].Body) {
						t.Errorf("record %d event %d differs:\n%s %s\n%s %s", i, j, first[j].ID, first[j].Body, other[j].ID, other[j].Body)
					}
				}
			}
		}
	})

	t.Run("different records", func(t *testing.T) {
		seen := map[string]string{}
		n := 0
		for i, rec := range recs {
			for _, ev := range produce(t, rec) {
				n++
				where := rec.EventID + " " + ev.Type
				if prev, dup := seen[ev.ID]; dup {
					t.Errorf("record %d: id %s of %s already given to %s", i, ev.ID, where, prev)
				}
				seen[ev.ID] = where
			}
		}
		if n != 7 {
			t.Errorf("the records gave %d events, want 7", n)
		}
	})
}

// A record with the same content under another stream record id is another
// change, and gets other ids.
func TestProduceIDFollowsRecord(t *testing.T) {
	t.Parallel()
	store, table := dynamotest.NewStore(t)
	dynamotest.CreateTicket(t, store, nil)
	rec := dynamotest.ReadStream(t, table, 1)[0]
	other := rec
	other.EventID += "x"
	a, b := produce(t, rec), produce(t, other)
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("got %d and %d events, want 1 each", len(a), len(b))
	}
	if a[0].ID == b[0].ID {
		t.Errorf("records %s and %s both gave id %s", rec.EventID, other.EventID, a[0].ID)
	}
}
