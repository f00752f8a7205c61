// Command openapi is the Lambda function that serves the OpenAPI document
// (GET /openapi.json, no key) behind API Gateway's HTTP API (payload 2.0).
// It makes no AWS call, so it starts without the system and links no AWS
// client.
package main

import (
	"github.com/acme/helpdesk/internal/httpapi"
	"github.com/acme/helpdesk/internal/lambdarun"
)

func main() { lambdarun.Serve(httpapi.NewDocs) }
