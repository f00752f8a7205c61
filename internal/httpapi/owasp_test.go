package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
)

// TestOWASPAPITop10 walks the items of the OWASP API Security Top 10
// (2023) that apply to this API. (API1 and API3, object-level and property
// authorization, do not: every key sees every ticket of its desk, and no
// property is hidden from any permission. API6, API8-API10 are about
// business flows, configuration and inventory, which the stack's tests
// and cdk-nag cover.)
func TestOWASPAPITop10(t *testing.T) {
	t.Run("API2BrokenAuthentication", testAuthentication)
	t.Run("API4UnrestrictedResourceConsumption", testResourceLimits)
	t.Run("API5BrokenFunctionLevelAuthorization", testPermissions)
	t.Run("API7ServerSideRequestForgery", testSSRF)
}

// testResourceLimits sends requests past every bound the API puts on what
// one request may make it hold or do.
func testResourceLimits(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
	hook := e.do("POST", base+"/webhooks", helpdesk.PermAdmin, `{"webhook": {"url": "http://127.0.0.1:9/", "events": ["ticket.created"]}}`).body["webhook"].(map[string]any)["id"].(string)
	long := func(n int) string { return strings.Repeat("a", n) }
	many := func(n int, f func(i int) any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	ticket := func(fields map[string]any) map[string]any {
		fields["subject"] = "x"
		return map[string]any{"ticket": fields}
	}
	tooBig := `{"ticket": {"subject": "` + long(httpapi.MaxBodyBytes) + `"}}`
	tooDeep := strings.Repeat(`[`, httpapi.MaxDepth+1) + strings.Repeat(`]`, httpapi.MaxDepth+1)
	cases := []struct {
		name         string
		method, path string
		header       http.Header
		body         any
		status       int
		code         helpdesk.Code
		fields       []string
	}{
		{"BodyOnCreate", "POST", "/tickets", nil, tooBig, 413, helpdesk.CodePayloadTooLarge, nil},
		{"BodyOnUpdate", "PUT", "/tickets/" + id, nil, tooBig, 413, helpdesk.CodePayloadTooLarge, nil},
		{"BodyOnCustomField", "POST", "/custom_fields", nil, `{"customField": {"name": "` + long(httpapi.MaxBodyBytes) + `"}}`, 413, helpdesk.CodePayloadTooLarge, nil},
		{"BodyOnWebhook", "POST", "/webhooks", nil, `{"webhook": {"url": "` + long(httpapi.MaxBodyBytes) + `"}}`, 413, helpdesk.CodePayloadTooLarge, nil},
		{"Nesting", "POST", "/tickets", nil, `{"ticket": {"subject": "x", "tags": ` + tooDeep + `}}`, 422, helpdesk.CodeValidation, []string{"ticket"}},
		{"PageSize", "GET", "/tickets?page_size=101", nil, nil, 422, helpdesk.CodeValidation, []string{"page_size"}},
		{"HugePageSize", "GET", "/tickets?page_size=99999999999999999999", nil, nil, 422, helpdesk.CodeValidation, []string{"page_size"}},
		{"DeliveriesPageSize", "GET", "/webhooks/" + hook + "/deliveries?page_size=101", nil, nil, 422, helpdesk.CodeValidation, []string{"page_size"}},
		{"HugeCursor", "GET", "/tickets?after=" + long(8<<10), nil, nil, 400, helpdesk.CodeBadRequest, nil},
		{"Tags", "POST", "/tickets", nil, ticket(map[string]any{"tags": many(helpdesk.MaxTags+1, func(i int) any { return fmt.Sprint("t", i) })}), 422, helpdesk.CodeValidation, []string{"ticket.tags"}},
		{"TagLength", "POST", "/tickets", nil, ticket(map[string]any{"tags": []any{long(helpdesk.MaxTagLen + 1)}}), 422, helpdesk.CodeValidation, []string{"ticket.tags[0]"}},
		{"CustomFieldValues", "POST", "/tickets", nil, ticket(map[string]any{"customFields": many(helpdesk.MaxCustomFieldValues+1, func(i int) any { return map[string]any{"id": fmt.Sprint("cf_", i), "value": nil} })}), 422, helpdesk.CodeValidation,
			[]string{"ticket.customFields"}},
		{"Subject", "POST", "/tickets", nil, map[string]any{"ticket": map[string]any{"subject": long(helpdesk.MaxSubjectLen + 1)}}, 422, helpdesk.CodeValidation, []string{"ticket.subject"}},
		{"RequesterName", "POST", "/tickets", nil, ticket(map[string]any{"requesterName": long(helpdesk.MaxRequesterNameLen + 1)}), 422, helpdesk.CodeValidation, []string{"ticket.requesterName"}},
		{"RequesterEmail", "POST", "/tickets", nil, ticket(map[string]any{"requesterEmail": long(helpdesk.MaxRequesterEmailLen-4) + "@x.io"}), 422, helpdesk.CodeValidation, []string{"ticket.requesterEmail"}},
		{"AssigneeID", "POST", "/tickets", nil, ticket(map[string]any{"assigneeId": "usr_" + long(helpdesk.MaxAssigneeIDLen-3)}), 422, helpdesk.CodeValidation, []string{"ticket.assigneeId"}},
		{"FieldName", "POST", "/custom_fields", nil, map[string]any{"customField": map[string]any{"name": long(helpdesk.MaxFieldNameLen + 1), "type": "text"}}, 422, helpdesk.CodeValidation, []string{"customField.name"}},
		{"FieldOptions", "POST", "/custom_fields", nil, map[string]any{"customField": map[string]any{"name": "F", "type": "dropdown", "options": many(helpdesk.MaxFieldOptions+1, func(i int) any { return fmt.Sprint("o", i) })}}, 422, helpdesk.CodeValidation, []string{"customField.options"}},
		{"WebhookURL", "POST", "/webhooks", nil, map[string]any{"webhook": map[string]any{"url": "http://127.0.0.1/" + long(helpdesk.MaxWebhookURLLen), "events": []string{"ticket.created"}}}, 422, helpdesk.CodeValidation, []string{"webhook.url"}},
		{"WebhookDescription", "POST", "/webhooks", nil, map[string]any{"webhook": map[string]any{"url": "http://127.0.0.1:9/", "events": []string{"ticket.created"}, "description": long(helpdesk.MaxWebhookDescLen + 1)}}, 422, helpdesk.CodeValidation, []string{"webhook.description"}},
		{"IdempotencyKeyHeader", "POST", "/tickets", withKey(long(helpdesk.MaxIdempotencyKeyLen + 1)), ticket(map[string]any{}), 400, helpdesk.CodeBadRequest, []string{"Idempotency-Key"}},
		{"IfMatchHeader", "PUT", "/tickets/" + id, ifMatch(strings.Repeat(`"1", `, 21)), ticket(map[string]any{}), 400, helpdesk.CodeBadRequest, []string{"If-Match"}},
		{"IfMatchHeaderLength", "DELETE", "/tickets/" + id, ifMatch(`"` + long(32<<10) + `"`), nil, 412, helpdesk.CodePreconditionFailed, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.doHeader(tc.method, base+tc.path, e.keys[helpdesk.PermAdmin], tc.header, tc.body).want(t, tc.status, tc.code, tc.fields...)
		})
	}
	t.Run("NothingWasWritten", func(t *testing.T) {
		if n := e.ticketCount(); n != 1 {
			t.Fatalf("%d tickets after the refused requests, want 1", n)
		}
		if tk := e.stored(id); tk.Version != 1 {
			t.Fatalf("the ticket was written: version %d", tk.Version)
		}
	})
}

// testSSRF subscribes URLs that point inside the network: the deployed
// guard refuses them all, and the local one, relaxed for receivers on
// 127.0.0.1, still refuses the cloud metadata address.
func testSSRF(t *testing.T) {
	e, _ := newAPI(t)
	strict := httptest.NewServer(serve.Handler(newSystem(t, dynamotest.Client(t), e.table, false, slog.New(slog.DiscardHandler))))
	t.Cleanup(strict.Close)
	subscribe := func(api, url string) response {
		return e.doKey("POST", api+base+"/webhooks", e.keys[helpdesk.PermAdmin], fmt.Sprintf(`{"webhook": {"url": %q, "events": ["ticket.created"]}}`, url))
	}
	for _, url := range []string{
		"http://203.0.113.7/", "https://127.0.0.1/", "https://localhost/", "https://10.0.0.1/", "https://172.16.0.1/",
		"https://192.168.1.1/", "https://169.254.169.254/latest/meta-data/", "https://100.64.0.1/", "https://0.0.0.0/",
		"https://[::1]/", "https://[fd00::1]/", "https://[fe80::1]/", "https://[::ffff:127.0.0.1]/", "https://[64:ff9b::a00:1]/",
		"https://2130706433/", "https://0x7f.1/", "https://198.51.100.1:8443/", "https://user:pass@198.51.100.1/",
		"ftp://198.51.100.1/", "file:///etc/passwd", "//198.51.100.1/", "https:///", "https://198.51.100.1/#frag",
	} {
		t.Run(url, func(t *testing.T) {
			subscribe(strict.URL, url).want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "webhook.url")
		})
	}
	t.Run("RelaxedStillRefusesMetadata", func(t *testing.T) {
		subscribe(e.url, "http://169.254.169.254/latest/meta-data/").want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "webhook.url")
	})
	t.Run("NothingSubscribed", func(t *testing.T) {
		if hooks, _ := e.do("GET", base+"/webhooks", helpdesk.PermRead, nil).body["webhooks"].([]any); len(hooks) != 0 {
			t.Fatalf("%d subscriptions were made", len(hooks))
		}
	})
}

// TestNoSecretsInAnswersOrLogs runs requests that carry keys, secrets and
// bodies, some in places they do not belong: no answer echoes a key or a
// webhook secret (the secret appears only in the answers that create it),
// and the logs hold none of them, nor any request body.
func TestNoSecretsInAnswersOrLogs(t *testing.T) {
	e, _ := newAPI(t)
	admin, write := e.keys[helpdesk.PermAdmin], e.keys[helpdesk.PermWrite]
	const marker = "body-marker-7f3a9c"
	var answers []response
	send := func(method, path, key string, header http.Header, body any) response {
		res := e.doHeader(method, base+path, key, header, body)
		answers = append(answers, res)
		return res
	}
	created := e.doHeader("POST", base+"/webhooks", admin, withKey("hook"), `{"webhook": {"url": "http://127.0.0.1:9/", "events": ["ticket.created"]}}`)
	hook := created.body["webhook"].(map[string]any)
	id, first := hook["id"].(string), hook["secret"].(string)
	replayed := e.doHeader("POST", base+"/webhooks", admin, withKey("hook"), `{"webhook": {"url": "http://127.0.0.1:9/", "events": ["ticket.created"]}}`)
	if replayed.body["webhook"].(map[string]any)["secret"] != first {
		t.Fatal("the replayed create does not show the secret its caller may never have received")
	}
	second := e.do("POST", base+"/webhooks/"+id+"/rotate_secret", helpdesk.PermAdmin, nil).body["webhook"].(map[string]any)["secret"].(string)

	send("GET", "/webhooks/"+id, admin, nil, nil)
	send("GET", "/webhooks", admin, nil, nil)
	send("PUT", "/webhooks/"+id, admin, nil, `{"webhook": {"description": "x"}}`)
	send("GET", "/webhooks/"+id+"/deliveries", admin, nil, nil)
	send("POST", "/tickets", write, nil, `{"ticket": {"subject": "`+marker+`", "requesterName": "`+marker+`"}}`)
	send("POST", "/tickets", write, nil, `{"ticket": {"subject": "`+marker+`", "priority": "`+write+`"}}`)
	send("POST", "/tickets", write, nil, `{"ticket": {"subject": "x", "`+first+`": 1}, "`+admin+`": 2}`)
	send("PUT", "/webhooks/"+id, admin, nil, `{"webhook": {"secret": "`+second+`"}}`)
	send("GET", "/tickets?api_key="+write, "", nil, nil)
	send("GET", "/tickets?assignee_id="+write, write, nil, nil)
	send("GET", "/tickets?after="+admin, write, nil, nil)
	send("POST", "/tickets", write, withKey(admin), `{"ticket": {"subject": "`+marker+`"}}`)
	send("POST", "/tickets", "", nil, `{"ticket": {"subject": "`+marker+`"}}`)
	send("GET", "/tickets", "hd_"+write[3:10], nil, nil)

	keys := []string{admin, write, e.keys[helpdesk.PermRead]}
	for _, res := range answers {
		for _, secret := range append(keys, first, second) {
			if bytes.Contains(res.raw, []byte(secret)) {
				t.Errorf("an answer (%d) holds a key or secret: %s", res.status, res.raw)
			}
		}
	}
	logs := e.logs.String()
	for _, s := range append(keys, first, second, first[len("whsec_"):], marker) {
		if strings.Contains(logs, s) {
			t.Errorf("the logs hold %q", s[:min(len(s), 12)]+"…")
		}
	}
	for _, k := range keys {
		if strings.Contains(logs, k[3:20]) {
			t.Error("the logs hold part of an API key")
		}
	}
	if !strings.Contains(logs, `"request_id"`) || !strings.Contains(logs, `"status":401`) || !strings.Contains(logs, `"status":422`) {
		t.Fatalf("request logs lack request ids or statuses: %s", logs)
	}
	// The secrets are stored (they must be, to sign) but never answered
	// after the answers that create them.
	if w, err := e.clean.Webhook(context.Background(), id); err != nil || w.Secret != second {
		t.Fatalf("stored subscription %+v, %v", w, err)
	}
}
