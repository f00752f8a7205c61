package app

import (
	"context"
	"log/slog"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/internal/webhook"
)

// StreamConsumer is what consumes the table's stream, deployed (the
// dispatch function) and locally alike: it purges the comments of deleted
// tickets, then hands the batch to d for webhooks. A record whose purge
// failed is reported for the stream to deliver again; the purge and d's
// recording are both idempotent, so a redelivered record does no work
// twice.
func (s *System) StreamConsumer(d *webhook.Dispatcher) func(context.Context, lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
	return func(ctx context.Context, batch lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
		failed := s.Store.PurgeRemovedTickets(ctx, batch)
		resp, err := d.HandleStream(ctx, batch)
		if len(failed) > 0 {
			s.Logger.WarnContext(ctx, "could not purge the comments of deleted tickets; the records will be retried", slog.Int("records", len(failed)))
		}
		for _, seq := range failed {
			resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.DynamoDBBatchItemFailure{ItemIdentifier: seq})
		}
		return resp, err
	}
}
