// Command comments is the Lambda function that serves tickets'
// conversations (/tickets/{id}/comments and below) and the uploads their
// attachments come from (/uploads) behind API Gateway's HTTP API (payload
// 2.0).
package main

import (
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/cursorsecret"
	"github.com/acme/helpdesk/internal/filestore"
	"github.com/acme/helpdesk/internal/httpapi"
)

func main() { serve.FilesAPI(cursorsecret.Loader, filestore.Open, httpapi.Comments) }
