package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the API's contract, kept beside the code it describes;
// the tests hold every exchange of the HTTP suites to it.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI 3.1 document of the API, as GET
// /openapi.json serves it. The caller must not modify it.
func OpenAPI() []byte { return openAPIDocument }

// docsCacheControl lets clients and caches keep the document for five
// minutes: it changes only with a deployment.
const docsCacheControl = "public, max-age=300"

func (a *api) serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", docsCacheControl)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDocument) // the client may have gone; nothing to do
	return nil
}
