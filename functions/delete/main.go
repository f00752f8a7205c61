// Command delete is the Lambda function that deletes a ticket (DELETE /tickets/{id})
// behind API Gateway's HTTP API (payload 2.0).
package main

import (
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/httpapi"
)

func main() { serve.API(httpapi.DeleteTicket) }
