// Package serve is the HTTP side of the assembly: the API's handler on an
// assembled app.System, and the entries of the functions that serve
// routes.
//
// It is apart from package app so that the stream and schedule functions,
// which import app, link no HTTP router and no OpenAPI document.
package serve

import (
	"net/http"

	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/httpapi"
	"github.com/acme/helpdesk/internal/lambdarun"
)

// Handler is the HTTP API of sys serving endpoints (all of them when
// none).
func Handler(sys *app.System, endpoints ...httpapi.Endpoint) http.Handler {
	return httpapi.New(httpapi.Config{
		Service:       sys.Tickets,
		Webhooks:      sys.Subscriptions,
		Conversations: sys.Conversations,
		Uploads:       sys.Uploads,
		Activity:      sys.Activity,
		Trash:         sys.Trash,
		Keys:          sys.Keys,
		Auth:          sys.Auth,
		Limiter:       sys.Limiter,
		Idempotency:   sys.Store,
		Logger:        sys.Logger,
		CORSOrigins:   sys.Config.CORSOrigins,
		Endpoints:     endpoints,
	})
}

// API serves endpoints over API Gateway's HTTP API. It never returns.
func API(endpoints ...httpapi.Endpoint) { start(nil, nil, endpoints) }

// PagingAPI is API for the functions that page, which read the cursor key
// through loader when it is kept in a secret.
func PagingAPI(loader app.KeyLoader, endpoints ...httpapi.Endpoint) { start(loader, nil, endpoints) }

// FilesAPI is PagingAPI for the function that also serves files, from the
// bucket files opens.
func FilesAPI(loader app.KeyLoader, files app.FilesOpener, endpoints ...httpapi.Endpoint) {
	start(loader, files, endpoints)
}

func start(loader app.KeyLoader, files app.FilesOpener, endpoints []httpapi.Endpoint) {
	sys, logger, err := app.Load(loader, files)
	if err != nil {
		lambdarun.Fail(logger, err)
	}
	lambdarun.HTTP(Handler(sys, endpoints...))
}
