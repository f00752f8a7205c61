// Command webhooks is the Lambda function that serves the webhook subscriptions (/webhooks and below)
// behind API Gateway's HTTP API (payload 2.0).
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/cursorsecret"
	"github.com/acme/helpdesk/internal/httpapi"
)

func main() {
	h, logger, err := app.PagingHandler(cursorsecret.Loader, httpapi.Webhooks)
	if err != nil {
		logger.Error("cannot start", slog.String("error", err.Error()))
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}
