package openapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// webhook returns the document's operation for an event body's type.
func (c *contract) webhook(body []byte) (*openapi3.PathItem, error) {
	var ev struct{ Type string }
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("the event is not a JSON object: %w", err)
	}
	item := c.doc.Webhooks[ev.Type]
	if item == nil || item.Post == nil {
		return nil, fmt.Errorf("the document has no webhook %q", ev.Type)
	}
	return item, nil
}

// CheckEvent checks an event payload against the schema of the document's
// webhook for its type, reporting a mismatch with tb.Errorf.
func CheckEvent(tb testing.TB, body []byte) {
	tb.Helper()
	item, err := mustLoad(tb).webhook(body)
	if err == nil {
		schema := item.Post.RequestBody.Value.Content.Get("application/json").Schema.Value
		err = visit(schema, body)
	}
	if err != nil {
		tb.Errorf("openapi: event %.200s: %v", body, err)
	}
}

// CheckDelivery checks a webhook delivery a receiver got, its headers and
// body, against the document's webhook for its type, reporting a mismatch
// with tb.Errorf.
func CheckDelivery(tb testing.TB, header http.Header, body []byte) {
	tb.Helper()
	c := mustLoad(tb)
	item, err := c.webhook(body)
	if err == nil {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header = header.Clone()
		err = openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
			Request: req,
			Route:   &routers.Route{Spec: c.doc, Path: "/", PathItem: item, Method: http.MethodPost, Operation: item.Post},
			Options: &openapi3filter.Options{SkipSettingDefaults: true, AuthenticationFunc: signed},
		})
	}
	if err != nil {
		tb.Errorf("openapi: delivery %s: %v", header.Get("webhook-id"), err)
	}
}

// signed passes a delivery that carries the header its security scheme
// names; whether the signature verifies only the secret can tell, and the
// receivers' tests check that.
func signed(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme := in.SecurityScheme
	if scheme == nil || scheme.Type != "apiKey" || scheme.In != "header" {
		return fmt.Errorf("security scheme %s: not a header the deliveries carry", in.SecuritySchemeName)
	}
	if in.RequestValidationInput.Request.Header.Get(scheme.Name) == "" {
		return fmt.Errorf("no %s header", scheme.Name)
	}
	return nil
}
