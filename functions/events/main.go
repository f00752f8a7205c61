// Command events is the Lambda function that serves the activity record,
// the change feed (GET /events) and each ticket's history (GET
// /tickets/{id}/events), behind API Gateway's HTTP API (payload 2.0).
package main

import (
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/cursorsecret"
	"github.com/acme/helpdesk/internal/httpapi"
)

func main() { serve.PagingAPI(cursorsecret.Loader, httpapi.Events) }
