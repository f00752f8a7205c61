package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
)

// TestUncleanPaths: a path the mux would redirect to its clean form is
// answered with the JSON 404, as the deployed API's $default route
// answers it, never with a redirect and an HTML body.
func TestUncleanPaths(t *testing.T) {
	e, _ := newAPI(t)
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"//tickets", "/./tickets", "/tickets/../tickets", "/tickets//x", "/tickets/", "/tickets/."} {
		for _, u := range []string{e.url + base + p, e.url + "/" + base + p} {
			t.Run(u[len(e.url):], func(t *testing.T) {
				req, _ := http.NewRequest("GET", u, nil)
				req.Header.Set("Authorization", "Bearer "+e.keys[helpdesk.PermRead])
				res, err := noRedirects.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				raw, _ := io.ReadAll(res.Body)
				var body struct{ Error struct{ Code string } }
				if res.StatusCode != http.StatusNotFound || res.Header.Get("Location") != "" ||
					res.Header.Get("Content-Type") != "application/json" || json.Unmarshal(raw, &body) != nil || body.Error.Code != "NOT_FOUND" {
					t.Fatalf("%d %v %s", res.StatusCode, res.Header, raw)
				}
			})
		}
	}
}

// TestHEAD: HEAD is served wherever GET is, listed in Allow beside it, and
// answered without a body through the Lambda adapter as over HTTP.
func TestHEAD(t *testing.T) {
	e, h := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "head"})["id"].(string)
	res := e.do("HEAD", base+"/tickets/"+id, helpdesk.PermRead, nil)
	if res.status != http.StatusOK || len(res.raw) != 0 || res.header.Get("ETag") == "" {
		t.Fatalf("HEAD: %d %v %q", res.status, res.header, res.raw)
	}
	res = e.do("PATCH", base+"/tickets", helpdesk.PermWrite, nil)
	res.want(t, http.StatusMethodNotAllowed, helpdesk.CodeMethodNotAllowed)
	if allow := res.header.Get("Allow"); allow != "GET, HEAD, POST" {
		t.Fatalf("Allow %q", allow)
	}
	t.Run("ThroughLambda", func(t *testing.T) {
		ev := loadEvent(t, "list-tickets.json", map[string]string{"read": e.keys[helpdesk.PermRead]})
		ev.RouteKey, ev.RequestContext.RouteKey, ev.RequestContext.HTTP.Method = "HEAD "+base+"/tickets", "HEAD "+base+"/tickets", "HEAD"
		out, err := httpadapter.NewV2(h).ProxyWithContext(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if out.StatusCode != http.StatusOK || out.Body != "" {
			t.Fatalf("%d %q", out.StatusCode, out.Body)
		}
	})
}

// TestDefaultRouteAnswers: the docs function, target of the deployed
// API's $default route, answers what no route matches from the whole
// route table: 405 with Allow for another method on any route's path,
// 404 for any other path, both as JSON, through the Lambda adapter.
func TestDefaultRouteAnswers(t *testing.T) {
	proxy := httpadapter.NewV2(httpapi.NewDocs(nil, nil)).ProxyWithContext
	for _, c := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"PATCH", base + "/tickets/tkt_x", 405, "METHOD_NOT_ALLOWED", "GET, HEAD, PUT, DELETE"},
		{"DELETE", base + "/tickets", 405, "METHOD_NOT_ALLOWED", "GET, HEAD, POST"},
		{"GET", base + "/webhooks/w/rotate_secret", 405, "METHOD_NOT_ALLOWED", "POST"},
		{"GET", base + "/nowhere", 404, "NOT_FOUND", ""},
		{"GET", "/", 404, "NOT_FOUND", ""},
		{"GET", base + "//tickets", 404, "NOT_FOUND", ""},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: c.path,
				RequestContext: events.APIGatewayV2HTTPRequestContext{RouteKey: "$default", Stage: "$default", RequestID: "default",
					HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: c.method, Path: c.path}}}
			out, err := proxy(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			var body struct{ Error struct{ Code string } }
			if out.StatusCode != c.status || json.Unmarshal([]byte(out.Body), &body) != nil || body.Error.Code != c.code || out.Headers["Allow"] != c.allow {
				t.Fatalf("%d %v %s", out.StatusCode, out.Headers, out.Body)
			}
		})
	}
}

// TestRepeatedKeys: a key repeated in any object of a body is refused
// with 400, the message naming it with its path; nothing is written.
func TestRepeatedKeys(t *testing.T) {
	e, _ := newAPI(t)
	for _, c := range []struct{ body, key string }{
		{`{"ticket": {"subject": "a", "subject": "b"}}`, `"ticket.subject"`},
		{`{"ticket": {"subject": "a"}, "ticket": {"subject": "b"}}`, `"ticket"`},
		{`{"ticket": {"subject": "a", "customFields": [{"id": "cf_a", "value": 1, "\u0076alue": 2}]}}`, `"ticket.customFields[0].value"`},
	} {
		res := e.do("POST", base+"/tickets", helpdesk.PermWrite, c.body)
		res.want(t, http.StatusBadRequest, helpdesk.CodeBadRequest)
		if msg := res.body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, c.key) {
			t.Errorf("%s: message %q does not name %s", c.body, msg, c.key)
		}
	}
	e.do("GET", base+"/tickets", helpdesk.PermRead, nil).want(t, http.StatusOK, "")
	if list := e.do("GET", base+"/tickets", helpdesk.PermRead, nil); len(list.body["tickets"].([]any)) != 0 {
		t.Fatalf("a refused body wrote a ticket: %s", list.raw)
	}
}

// TestByteOrderMark: a body that starts with a UTF-8 byte-order mark is
// read as the JSON after it (RFC 8259 lets parsers ignore one).
func TestByteOrderMark(t *testing.T) {
	e, _ := newAPI(t)
	res := e.do("POST", base+"/tickets", helpdesk.PermWrite, "\xef\xbb\xbf{\"ticket\": {\"subject\": \"from Notepad\"}}")
	res.want(t, http.StatusCreated, "")
	if got := res.ticket(t)["subject"]; got != "from Notepad" {
		t.Fatalf("subject %v", got)
	}
	e.do("POST", base+"/tickets", helpdesk.PermWrite, "\xef\xbb\xbf").want(t, http.StatusBadRequest, helpdesk.CodeBadRequest)
}

// TestLimitHeaders: past MaxHeaderBytes of request line and headers, the
// JSON 431, with a request id as every answer; within, the API.
func TestLimitHeaders(t *testing.T) {
	h := httpapi.LimitHeaders(httpapi.NewDocs(nil, nil))
	for _, c := range []struct {
		padding, status int
	}{{httpapi.MaxHeaderBytes - 512, http.StatusOK}, {httpapi.MaxHeaderBytes, http.StatusRequestHeaderFieldsTooLarge}} {
		req := httptest.NewRequest("GET", base+"/openapi.json", nil)
		req.Header.Set("X-Padding", strings.Repeat("p", c.padding))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var body struct{ Error struct{ Code string } }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != c.status || c.status != http.StatusOK && (body.Error.Code != "HEADERS_TOO_LARGE" ||
			rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("X-Request-Id") == "") {
			t.Fatalf("padding %d: %d %s", c.padding, rec.Code, rec.Body)
		}
	}
}

// TestExactNumbers: a number custom field keeps the exact value sent,
// through DynamoDB and back, in every answer; one DynamoDB cannot hold
// exactly is refused with 422 naming the field.
func TestExactNumbers(t *testing.T) {
	e, _ := newAPI(t)
	res := e.do("POST", base+"/custom_fields", helpdesk.PermAdmin, `{"customField": {"name": "Account", "type": "number"}}`)
	res.want(t, http.StatusCreated, "")
	cf := res.body["customField"].(map[string]any)["id"].(string)
	body := func(value string) string {
		return `{"ticket": {"subject": "big", "customFields": [{"id": "` + cf + `", "value": ` + value + `}]}}`
	}
	for _, c := range []struct{ sent, shown string }{
		{"12345678901234567890123", "12345678901234567890123"},
		{"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
		{"-1.50", "-1.5"},
		{"1e125", "1e+125"},
		{"0.000000000000000000000000000001", "1e-30"},
	} {
		created := e.do("POST", base+"/tickets", helpdesk.PermWrite, body(c.sent))
		created.want(t, http.StatusCreated, "")
		want := `"value":` + c.shown + `}`
		if !strings.Contains(string(created.raw), want) {
			t.Errorf("%s: created %s, want %s", c.sent, created.raw, want)
		}
		id := created.ticket(t)["id"].(string)
		if got := e.do("GET", base+"/tickets/"+id, helpdesk.PermRead, nil); !strings.Contains(string(got.raw), want) {
			t.Errorf("%s: read back %s, want %s", c.sent, got.raw, want)
		}
	}
	for _, sent := range []string{"1234567890123456789012345678901234567890", "1e200", "1e-200", "-1e126"} {
		e.do("POST", base+"/tickets", helpdesk.PermWrite, body(sent)).
			want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "ticket.customFields[0].value")
	}
}
