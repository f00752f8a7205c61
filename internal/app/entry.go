package app

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/acme/helpdesk/internal/lambdarun"
)

// The entries below are the kinds of process the system runs as besides
// serving the API (package serve): each function's main is one call.

// ConsumeStream turns the table's stream batches into webhook deliveries,
// reporting failed records by SequenceNumber. It never returns.
func ConsumeStream() {
	sys, logger, err := Load(nil)
	if err != nil {
		lambdarun.Fail(logger, err)
	}
	lambda.Start(sys.StreamConsumer(sys.Dispatcher()))
}

// RunDue attempts the webhook deliveries that have come due (retries and
// replays) each time a schedule invokes it. It never returns.
func RunDue() {
	sys, logger, err := Load(nil)
	if err != nil {
		lambdarun.Fail(logger, err)
	}
	d := sys.Dispatcher()
	lambda.Start(func(ctx context.Context) error {
		n, err := d.Drain(ctx)
		logger.InfoContext(ctx, "due deliveries attempted", slog.Int("count", n))
		return err
	})
}
