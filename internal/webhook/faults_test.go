package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/webhook"
)

// feed hands records to d in batches the way Lambda's event source mapping
// does: in order, and a batch that fails, or whose response names failed
// records, is handed again from its first failed record. It gives up after
// tries batches.
func feed(ctx context.Context, d *webhook.Dispatcher, records []lambdaevents.DynamoDBEventRecord, size, tries int) (retried int, err error) {
	for len(records) > 0 {
		if tries--; tries < 0 {
			return retried, fmt.Errorf("%d records still failing", len(records))
		}
		batch := records[:min(size, len(records))]
		resp, err := d.HandleStream(ctx, lambdaevents.DynamoDBEvent{Records: batch})
		if err != nil {
			retried++
			continue
		}
		next := len(batch)
		if len(resp.BatchItemFailures) > 0 {
			retried++
			for i, r := range batch {
				if r.Change.SequenceNumber == resp.BatchItemFailures[0].ItemIdentifier {
					next = i
					break
				}
			}
		}
		records = records[next:]
	}
	return retried, nil
}

// received returns, per event id, how many times r got it.
func received(tb testing.TB, r *receiver) map[string]int {
	tb.Helper()
	got := map[string]int{}
	for _, req := range r.requests() {
		got[decodeEvent(tb, req.body).ID]++
	}
	return got
}

// TestDispatcherUnderFaultsLosesNothing runs the dispatcher on a DynamoDB
// client that fails a third of its calls, in every way a call can fail,
// and checks that every event of every ticket write reaches every
// subscription that takes it: at least once, and never one it does not
// take.
func TestDispatcherUnderFaultsLosesNothing(t *testing.T) {
	clean, table := dynamotest.NewStore(t)
	db, faults := dynamotest.FaultyClient(t, 200*time.Millisecond)
	store := dynamo.New(db, table, nil)

	type sub struct {
		recv *receiver
		hook *helpdesk.Webhook
	}
	subs := []sub{}
	for _, types := range [][]string{events.Types, {events.TicketCreated, events.TicketDeleted}, {events.TicketAssignmentChanged}} {
		r := newReceiver(t, answer(http.StatusNoContent))
		subs = append(subs, sub{r, dynamotest.Subscribe(t, clean, r.URL+"/hooks", types...)})
	}
	writes := len(subs)
	for i := range 12 {
		tk := dynamotest.CreateTicket(t, clean, func(tk *helpdesk.Ticket) {
			if i%2 == 0 {
				tk.AssigneeID = "usr_a"
			}
		})
		dynamotest.UpdateTicket(t, clean, tk.ID, func(tk *helpdesk.Ticket) { tk.Status = helpdesk.StatusOpen })
		dynamotest.UpdateTicket(t, clean, tk.ID, func(tk *helpdesk.Ticket) { tk.AssigneeID = fmt.Sprintf("usr_%d", i) })
		writes += 3
		if i%3 == 0 {
			if err := clean.DeleteTicket(t.Context(), tk.ID, helpdesk.Precondition{}, dynamotest.Deletion()); err != nil {
				t.Fatal(err)
			}
			writes += 2 // the removal and the tombstone
		}
	}
	records := dynamotest.ReadStream(t, table, writes)
	want := map[string]map[string]bool{} // receiver URL -> event ids it must get
	for _, s := range subs {
		want[s.hook.ID] = map[string]bool{}
	}
	for _, rec := range records {
		for _, ev := range produce(t, rec) {
			for _, s := range subs {
				if s.hook.Wants(ev.Type) {
					want[s.hook.ID][ev.ID] = true
				}
			}
		}
	}

	// The first batch's records fail to be recorded, beyond the SDK's
	// attempts; then attempts fail at random, about half of them, so
	// that calls fail even after the SDK's retries, and more often as its
	// retry quota runs low.
	faults.Add(dynamotest.Rule{Op: "BatchWriteItem", Fault: dynamotest.ServerError, Times: 8})
	for _, f := range []dynamotest.Fault{dynamotest.Throttling, dynamotest.ServerError, dynamotest.Timeout, dynamotest.LostReply} {
		faults.Add(dynamotest.Rule{Fault: f, Rate: 0.15})
	}
	clk := newClock()
	d := newDispatcher(t, store, relaxed, clk)
	d.SetCacheTTL(0)
	retried, err := feed(t.Context(), d, records, 10, 200)
	if err != nil {
		t.Fatalf("the stream never got through: %v", err)
	}
	// What could not be recorded as attempted waits out its lease, then
	// the retry worker sends it: move the clock along and drain, as the
	// scheduled function does.
	deadline := time.Now().Add(60 * time.Second)
	late := -1
	for {
		missing := 0
		for _, s := range subs {
			got := received(t, s.recv)
			for id := range want[s.hook.ID] {
				if got[id] == 0 {
					missing++
				}
			}
		}
		if late < 0 {
			late = missing
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, s := range subs {
				got := received(t, s.recv)
				for id := range want[s.hook.ID] {
					if got[id] == 0 {
						explainMissing(t, clean, s.hook.ID, id)
					}
				}
			}
			t.Fatalf("%d deliveries never arrived", missing)
		}
		clk.Set(clk.Now().Add(3 * time.Minute))
		_, _ = d.Drain(t.Context()) // a failed pass is retried on the next tick
	}

	total, dups := 0, 0
	for _, s := range subs {
		for id, n := range received(t, s.recv) {
			if !want[s.hook.ID][id] {
				t.Errorf("%s got event %s it does not take", s.hook.ID, id)
			}
			total += n
			dups += n - 1
		}
	}
	if retried == 0 {
		t.Fatal("no batch was handed again: the faults never beat the SDK's retries, and the test proved nothing")
	}
	expected := 0
	for _, ids := range want {
		expected += len(ids)
	}
	t.Logf("%d writes, %d deliveries expected, %d made (%d duplicates), %d of them only by the retry worker; %d of %d DynamoDB attempts faulted; %d batches handed again",
		writes, expected, total, dups, late, faults.Hit(""), faults.Seen(""), retried)
}

// explainMissing logs what the table holds of a delivery that never
// arrived: its event, whether it is still pending, and its attempts.
func explainMissing(t *testing.T, store *dynamo.Store, webhookID, eventID string) {
	t.Helper()
	_, evErr := store.Event(t.Context(), eventID)
	due, err := store.DueDeliveries(t.Context(), time.Now().Add(30*24*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	pending := slices.ContainsFunc(due, func(d *helpdesk.Delivery) bool { return d.WebhookID == webhookID && d.EventID == eventID })
	page, err := store.ListAttempts(t.Context(), webhookID, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var attempts []string
	for _, a := range page.Attempts {
		if a.EventID == eventID {
			attempts = append(attempts, fmt.Sprintf("#%d %d %q", a.Attempt, a.StatusCode, a.Error))
		}
	}
	t.Logf("never delivered: %s to %s (event read: %v; still pending: %v; attempts: %v)", eventID, webhookID, evErr, pending, attempts)
}
