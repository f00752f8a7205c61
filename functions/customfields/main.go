// Command customfields is the Lambda function that serves the custom field definitions (/custom_fields and /custom_fields/{id})
// behind API Gateway's HTTP API (payload 2.0).
package main

import (
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/httpapi"
)

func main() { serve.API(httpapi.CustomFields) }
