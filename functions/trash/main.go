// Command trash is the Lambda function that serves the trash: the deleted
// tickets' list (GET /deleted_tickets), their restore (POST
// /deleted_tickets/{id}/restore) and their purge (DELETE
// /deleted_tickets/{id}), behind API Gateway's HTTP API (payload 2.0).
package main

import (
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/cursorsecret"
	"github.com/acme/helpdesk/internal/httpapi"
)

func main() { serve.PagingAPI(cursorsecret.Loader, httpapi.Trash) }
