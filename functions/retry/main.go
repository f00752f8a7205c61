// Command retry is the Lambda function a schedule runs every minute: it
// attempts the webhook deliveries that have come due (retries and
// replays).
package main

import "github.com/acme/helpdesk/internal/app/deliver"

func main() { deliver.RunDue() }
