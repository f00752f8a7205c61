package webhook_test

import (
	"net/http"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/webhook"
)

// TestRedeliveredBatchKeepsRetryState: a stream batch delivered again
// while its delivery is pending neither resets the attempt count nor
// attempts it out of schedule.
func TestRedeliveredBatchKeepsRetryState(t *testing.T) {
	s := newScenario(t, setup{respond: answer(http.StatusInternalServerError)})
	s.handle(t)
	first := s.onlyPending(t)
	s.processDue(t, first.Due)
	if got := s.onlyPending(t).Attempts; got != 2 {
		t.Fatalf("attempts %d after two failures", got)
	}
	s.handle(t) // the same batch again
	if got := s.onlyPending(t).Attempts; got != 2 {
		t.Fatalf("a redelivered batch reset the attempts to %d", got)
	}
	if n := s.recv.hits(); n != 2 {
		t.Fatalf("receiver hit %d times, want 2: the pending delivery was attempted out of schedule", n)
	}
}

// TestSuccessClearsFailingSoonAfter: within one batch on one worker, a
// failure then a success (the cached subscription, read before the
// failure, shows none) still leaves FailingSince cleared.
func TestSuccessClearsFailingSoonAfter(t *testing.T) {
	store, table := dynamotest.NewStore(t)
	recv := newReceiver(t, func(w http.ResponseWriter, hit int) {
		if hit == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	hook := dynamotest.Subscribe(t, store, recv.URL, events.TicketCreated)
	dynamotest.CreateTicket(t, store, nil)
	dynamotest.CreateTicket(t, store, nil)
	batch := lambdaevents.DynamoDBEvent{Records: dynamotest.ReadStream(t, table, 3)}
	d := webhook.NewDispatcher(store, relaxed.Client(webhook.AttemptTimeout), testLogger(t), 1)
	if _, err := d.HandleStream(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	if n := recv.hits(); n != 2 {
		t.Fatalf("receiver hit %d times, want 2", n)
	}
	w, err := store.Webhook(t.Context(), hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !w.FailingSince.IsZero() {
		t.Fatalf("FailingSince = %v after the success that followed the failure", w.FailingSince)
	}
}

// TestDrainTakesEverythingDue: Drain keeps going while full batches are
// due, even when they are dropped rather than attempted.
func TestDrainTakesEverythingDue(t *testing.T) {
	s := newScenario(t, setup{respond: answer(http.StatusOK)})
	now := s.clock.Now()
	var many []*helpdesk.Delivery
	for range 150 {
		many = append(many, &helpdesk.Delivery{WebhookID: "whk_gone", EventID: helpdesk.NewID("evt_"), Due: now.Add(-time.Minute)})
	}
	if _, err := s.store.RecordEvents(t.Context(), nil, many); err != nil {
		t.Fatal(err)
	}
	n, err := s.disp.Drain(t.Context())
	if err != nil || n != 150 {
		t.Fatalf("Drain found %d, %v; want 150", n, err)
	}
	if left := s.due(t, now); len(left) != 0 {
		t.Fatalf("%d deliveries still due", len(left))
	}
}
