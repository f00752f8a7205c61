package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// loadEvent reads an HTTP API (payload 2.0) event fixture, filling in the
// {{placeholders}}.
func loadEvent(tb testing.TB, name string, vars map[string]string) events.APIGatewayV2HTTPRequest {
	tb.Helper()
	raw, err := os.ReadFile("testdata/events/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	s := string(raw)
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal([]byte(s), &ev); err != nil {
		tb.Fatal(err)
	}
	return ev
}

// TestThroughLambdaAdapter serves fixture events through the adapter the
// functions use: status, headers, body and the stage prefix.
func TestThroughLambdaAdapter(t *testing.T) {
	e, h := newAPI(t)
	proxy := httpadapter.NewV2(h).ProxyWithContext
	vars := map[string]string{"read": e.keys[helpdesk.PermRead], "write": e.keys[helpdesk.PermWrite]}
	invoke := func(ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, map[string]any) {
		t.Helper()
		res, err := proxy(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if res.Body != "" {
			if err := json.Unmarshal([]byte(res.Body), &body); err != nil {
				t.Fatalf("body %q: %v", res.Body, err)
			}
		}
		return res, body
	}

	res, body := invoke(loadEvent(t, "create-ticket-base64.json", vars))
	if res.StatusCode != http.StatusCreated || res.Headers["Content-Type"] != "application/json" || res.Headers["X-Request-Id"] != "Kx1fWgHRDoEEMbR=" {
		t.Fatalf("create: %d %v %s", res.StatusCode, res.Headers, res.Body)
	}
	id := body["ticket"].(map[string]any)["id"].(string)
	e.createTicket(map[string]any{"subject": "second"})

	t.Run("List", func(t *testing.T) {
		res, body := invoke(loadEvent(t, "list-tickets.json", vars))
		if res.StatusCode != http.StatusOK || body["tickets"].([]any)[0].(map[string]any)["id"] != id {
			t.Fatalf("list: %d %s", res.StatusCode, res.Body)
		}
		if next, _ := body["links"].(map[string]any)["next"].(string); !strings.HasPrefix(next, "/helpdesk/api/v1/tickets?") {
			t.Fatalf("next %q", next)
		}
	})
	t.Run("StagePrefix", func(t *testing.T) {
		res, body := invoke(loadEvent(t, "get-ticket-stage.json", map[string]string{"read": vars["read"], "id": id}))
		if res.StatusCode != http.StatusOK || body["ticket"].(map[string]any)["subject"] != "Cannot log in" {
			t.Fatalf("get through stage: %d %s", res.StatusCode, res.Body)
		}
		ev := loadEvent(t, "list-tickets.json", vars)
		ev.RawPath, ev.RequestContext.HTTP.Path, ev.RequestContext.Stage = "/prod"+ev.RawPath, "/prod"+ev.RawPath, "prod"
		_, body = invoke(ev)
		if next, _ := body["links"].(map[string]any)["next"].(string); !strings.HasPrefix(next, "/prod/helpdesk/api/v1/tickets?") {
			t.Fatalf("next link drops the stage: %q", next)
		}
	})
	t.Run("ErrorsKeepTheirShape", func(t *testing.T) {
		ev := loadEvent(t, "create-ticket-base64.json", vars)
		ev.Body, ev.IsBase64Encoded = `{"ticket": {"subject": ""}}`, false
		res, body := invoke(ev)
		if res.StatusCode != http.StatusUnprocessableEntity || body["error"].(map[string]any)["code"] != "VALIDATION_ERROR" {
			t.Fatalf("%d %s", res.StatusCode, res.Body)
		}
		ev.Headers["authorization"] = "Bearer nope"
		if res, _ := invoke(ev); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%d %s", res.StatusCode, res.Body)
		}
	})
}
