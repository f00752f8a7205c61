// Command retry is the Lambda function a schedule runs every minute: it
// attempts the webhook deliveries that have come due (retries and
// replays).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/acme/helpdesk/internal/app"
)

func main() {
	d, logger, err := app.Dispatcher()
	if err != nil {
		logger.Error("cannot start", slog.String("error", err.Error()))
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context) error {
		n, err := d.Drain(ctx)
		logger.InfoContext(ctx, "due deliveries attempted", slog.Int("count", n))
		return err
	})
}
