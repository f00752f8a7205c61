// Command get is the Lambda function that retrieves a ticket (GET /tickets/{id})
// behind API Gateway's HTTP API (payload 2.0).
package main

import (
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/httpapi"
)

func main() { serve.API(httpapi.GetTicket) }
