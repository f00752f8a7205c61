// Command comments is the Lambda function that serves tickets'
// conversations (/tickets/{id}/comments and below) behind API Gateway's
// HTTP API (payload 2.0).
package main

import (
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/cursorsecret"
	"github.com/acme/helpdesk/internal/httpapi"
)

func main() { serve.PagingAPI(cursorsecret.Loader, httpapi.Comments) }
