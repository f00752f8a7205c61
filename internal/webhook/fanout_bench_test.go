package webhook_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/config"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/ssrf"
	"github.com/acme/helpdesk/internal/webhook"
)

// BenchmarkFanOut delivers a stream batch of 100 ticket.created events to
// 3 subscriptions whose endpoints each take 50 ms, with the production pool
// size, and reports the batch time as ratios to the sequential lower bound
// (100 x 3 x 50 ms) and to the ideal for the pool (50 ms x ceil(300 /
// workers)): for the whole batch, which includes recording the events and
// logging every attempt in DynamoDB Local, and for the deliveries alone
// (the batch less the time spent in those store calls).
//
//	go test -run XXX -bench FanOut -benchtime 5x ./internal/webhook/
func BenchmarkFanOut(b *testing.B) {
	const events_, subs, latency = 100, 3, 50 * time.Millisecond
	store, table := dynamotest.NewStore(b)
	for range events_ {
		dynamotest.CreateTicket(b, store, nil)
	}
	batch := lambdaevents.DynamoDBEvent{Records: dynamotest.ReadStream(b, table, events_)}
	for range subs {
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			time.Sleep(latency)
			w.WriteHeader(http.StatusNoContent)
		}))
		b.Cleanup(slow.Close)
		dynamotest.Subscribe(b, store, slow.URL, events.TicketCreated)
	}
	timed := &timedStore{Store: store}
	d := webhook.NewDispatcher(timed, (&ssrf.Guard{AllowPrivate: true}).Client(webhook.AttemptTimeout), slog.New(slog.DiscardHandler), config.DefaultDispatchWorkers)
	deliveries := events_ * subs
	sequential := time.Duration(deliveries) * latency
	ideal := latency * time.Duration((deliveries+config.DefaultDispatchWorkers-1)/config.DefaultDispatchWorkers)
	b.ResetTimer()
	for b.Loop() {
		resp, err := d.HandleStream(context.Background(), batch)
		if err != nil || len(resp.BatchItemFailures) > 0 {
			b.Fatalf("HandleStream: %v, %d failures", err, len(resp.BatchItemFailures))
		}
	}
	perBatch := b.Elapsed() / time.Duration(b.N)
	delivering := perBatch - timed.spent/time.Duration(b.N)
	b.ReportMetric(float64(perBatch.Milliseconds()), "ms/batch")
	b.ReportMetric(float64(perBatch)/float64(sequential), "x-sequential")
	b.ReportMetric(float64(perBatch)/float64(ideal), "x-ideal")
	b.ReportMetric(float64(delivering)/float64(ideal), "x-ideal-deliveries")
	if due, err := store.DueDeliveries(context.Background(), time.Now().Add(time.Hour), 10); err != nil || len(due) > 0 {
		b.Fatalf("%d deliveries left pending (%v): some attempts failed", len(due), err)
	}
}

// timedStore is the real store, timing the batch writes the dispatcher
// makes per stream batch.
type timedStore struct {
	*dynamo.Store
	spent time.Duration
}

func (s *timedStore) RecordEvents(ctx context.Context, evs []*helpdesk.StoredEvent, ds []*helpdesk.Delivery) ([]*helpdesk.Delivery, error) {
	defer s.time(time.Now())
	return s.Store.RecordEvents(ctx, evs, ds)
}

func (s *timedStore) FinishAttempts(ctx context.Context, done []helpdesk.Finished) error {
	defer s.time(time.Now())
	return s.Store.FinishAttempts(ctx, done)
}

// time adds the time since start; the dispatcher calls these two methods
// one at a time, never concurrently.
func (s *timedStore) time(start time.Time) { s.spent += time.Since(start) }
