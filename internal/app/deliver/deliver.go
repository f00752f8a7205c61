// Package deliver is the webhook side of the assembly: the dispatcher on
// an assembled app.System, the consumer of the table's stream, and the
// entries of the stream and schedule functions.
//
// It is apart from package app so that the API functions, which import
// app (through app/serve), link no delivery machinery, just as the
// dispatch and retry functions link no HTTP router.
package deliver

import (
	"context"
	"log/slog"
	"slices"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/lambdarun"
	"github.com/acme/helpdesk/internal/webhook"
)

// Dispatcher is the webhook dispatcher of sys, delivering through the SSRF
// guard's client.
func Dispatcher(sys *app.System) *webhook.Dispatcher {
	return webhook.NewDispatcher(sys.Store, sys.Guard.Client(webhook.AttemptTimeout), sys.Logger, sys.Config.Workers())
}

// StreamConsumer is what consumes the table's stream, deployed (the
// dispatch function) and locally alike: it purges the comments of deleted
// tickets, discards the bytes of the attachments that comments drop
// (redacted, or purged with their ticket), then hands the batch to d for
// webhooks. A record whose purge or discard failed is reported for the
// stream to deliver again; the purge, the discard and d's recording are
// all idempotent, so a redelivered record does no work twice.
func StreamConsumer(sys *app.System, d *webhook.Dispatcher) func(context.Context, lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
	return func(ctx context.Context, batch lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
		failed := sys.Store.PurgeRemovedTickets(ctx, batch)
		failed = append(failed, discardDropped(ctx, sys, batch)...)
		resp, err := d.HandleStream(ctx, batch)
		if len(failed) > 0 {
			sys.Logger.WarnContext(ctx, "could not purge the comments or files of deleted tickets or redacted comments; the records will be retried", slog.Int("records", len(failed)))
		}
		for _, seq := range failed {
			f := lambdaevents.DynamoDBBatchItemFailure{ItemIdentifier: seq}
			if !slices.Contains(resp.BatchItemFailures, f) {
				resp.BatchItemFailures = append(resp.BatchItemFailures, f)
			}
		}
		return resp, err
	}
}

// discardDropped discards the bytes of the attachments each record of
// batch drops (dynamo.DroppedAttachments) and returns the sequence
// numbers of the records whose discard failed. Without a file store, a
// record that drops attachments fails: its files would otherwise be kept
// for ever.
func discardDropped(ctx context.Context, sys *app.System, batch lambdaevents.DynamoDBEvent) []string {
	var failed []string
	for _, rec := range batch.Records {
		ticketID, ids, err := dynamo.DroppedAttachments(rec)
		switch {
		case err != nil || len(ids) == 0:
			// A record that cannot be decoded never will be; the
			// dispatcher logs it.
			continue
		case sys.Files == nil:
			sys.Logger.ErrorContext(ctx, "a comment dropped attachments, but this process has no file store (HELPDESK_FILES_BUCKET)", slog.String("ticket", ticketID))
			failed = append(failed, rec.Change.SequenceNumber)
		case sys.Files.Discard(ctx, ticketID, ids) != nil:
			failed = append(failed, rec.Change.SequenceNumber)
		}
	}
	return failed
}

// ConsumeStream is the dispatch function: it consumes the table's stream
// batches (StreamConsumer), reporting failed records by SequenceNumber,
// and discards dropped attachments from the bucket files opens. It never
// returns.
func ConsumeStream(files app.FilesOpener) {
	sys, logger, err := app.Load(nil, files)
	if err != nil {
		lambdarun.Fail(logger, err)
	}
	lambda.Start(StreamConsumer(sys, Dispatcher(sys)))
}

// RunDue is the retry function: it attempts the webhook deliveries that
// have come due (retries and replays) each time a schedule invokes it. It
// never returns.
func RunDue() {
	sys, logger, err := app.Load(nil, nil)
	if err != nil {
		lambdarun.Fail(logger, err)
	}
	d := Dispatcher(sys)
	lambda.Start(func(ctx context.Context) error {
		n, err := d.Drain(ctx)
		logger.InfoContext(ctx, "due deliveries attempted", slog.Int("count", n))
		return err
	})
}
