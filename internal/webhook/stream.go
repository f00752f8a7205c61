package webhook

import (
	"context"
	"log/slog"
	"slices"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// HandleStream processes a batch of ticket stream records: it records the
// events and deliveries they cause, then attempts the deliveries. The
// response names (by SequenceNumber) the records whose work could not be
// recorded, for Lambda to retry; failed deliveries are retried from the
// table, never by failing the batch.
func (d *Dispatcher) HandleStream(ctx context.Context, batch lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
	var resp lambdaevents.DynamoDBEventResponse
	var stored []*helpdesk.StoredEvent
	var owners []string // the SequenceNumber of each record with events
	for _, rec := range batch.Records {
		evs, err := Produce(rec)
		if err != nil {
			// A record that cannot be decoded never will be; failing it
			// would block the shard. Say so loudly instead.
			d.log.ErrorContext(ctx, "undecodable stream record skipped", slog.String("event_id", rec.EventID), slog.String("error", err.Error()))
			continue
		}
		if len(evs) > 0 {
			stored = append(stored, evs...)
			owners = append(owners, rec.Change.SequenceNumber)
		}
	}
	if len(stored) == 0 {
		return resp, nil
	}
	failAll := func(err error) (lambdaevents.DynamoDBEventResponse, error) {
		d.log.ErrorContext(ctx, "could not record events; the records will be retried", slog.Int("records", len(owners)), slog.String("error", err.Error()))
		for _, seq := range owners {
			resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.DynamoDBBatchItemFailure{ItemIdentifier: seq})
		}
		return resp, nil
	}
	hooks, err := d.subs.all(ctx)
	if err != nil {
		return failAll(err)
	}
	now := d.now()
	var jobs []job
	var kept []*helpdesk.StoredEvent
	for _, ev := range stored {
		wanted := false
		for _, h := range hooks {
			if h.Wants(ev.Type) {
				wanted = true
				jobs = append(jobs, job{delivery: &helpdesk.Delivery{WebhookID: h.ID, EventID: ev.ID, Due: now.Add(lease)}, event: ev, hook: h})
			}
		}
		if wanted {
			kept = append(kept, ev)
		}
	}
	if len(jobs) == 0 {
		return resp, nil
	}
	deliveries := make([]*helpdesk.Delivery, len(jobs))
	for i, j := range jobs {
		deliveries[i] = j.delivery
	}
	fresh, err := d.store.RecordEvents(ctx, kept, deliveries)
	if err != nil {
		return failAll(err)
	}
	// A delivery already pending (a redelivered batch) is left to its own
	// schedule; only the new ones are attempted now.
	recorded := make(map[*helpdesk.Delivery]bool, len(fresh))
	for _, dl := range fresh {
		recorded[dl] = true
	}
	jobs = slices.DeleteFunc(jobs, func(j job) bool { return !recorded[j.delivery] })
	d.run(ctx, jobs, d.now().Add(inlineBudget))
	return resp, nil
}
