// Command dispatch is the Lambda function fed by the ticket table's
// DynamoDB Stream: it turns ticket changes into signed webhook deliveries,
// reporting failed records by SequenceNumber (ReportBatchItemFailures).
package main

import "github.com/acme/helpdesk/internal/app/deliver"

func main() { deliver.ConsumeStream() }
