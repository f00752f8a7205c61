// Command dispatch is the Lambda function fed by the ticket table's
// DynamoDB Stream: it turns ticket changes into signed webhook deliveries,
// and discards the files of redacted comments and purged tickets,
// reporting failed records by SequenceNumber (ReportBatchItemFailures).
package main

import (
	"github.com/acme/helpdesk/internal/app/deliver"
	"github.com/acme/helpdesk/internal/filestore"
)

func main() { deliver.ConsumeStream(filestore.Open) }
