// Command apikeys is the Lambda function that serves the management of API keys (/api_keys and below)
// behind API Gateway's HTTP API (payload 2.0).
package main

import (
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/cursorsecret"
	"github.com/acme/helpdesk/internal/httpapi"
)

func main() { serve.PagingAPI(cursorsecret.Loader, httpapi.APIKeys) }
