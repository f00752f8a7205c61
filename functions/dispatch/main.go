// Command dispatch is the Lambda function fed by the ticket table's
// DynamoDB Stream: it turns ticket changes into signed webhook deliveries,
// reporting failed records by SequenceNumber (ReportBatchItemFailures).
package main

import (
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
	lambda.Start(d.HandleStream)
}
