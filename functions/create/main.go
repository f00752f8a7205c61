// Command create is the Lambda function that creates a ticket (POST /tickets)
// behind API Gateway's HTTP API (payload 2.0).
package main

import (
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/httpapi"
)

func main() { serve.API(httpapi.CreateTicket) }
