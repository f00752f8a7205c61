package httpapi_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
	"github.com/acme/helpdesk/internal/openapitest"
	"github.com/acme/helpdesk/internal/ratelimit"
	"github.com/acme/helpdesk/internal/view"
	"github.com/acme/helpdesk/internal/webhook"
)

// TestOpenAPIContractLint holds the whole document to what an API-security
// lint (the OWASP ruleset of Spectral, Redocly's recommended rules) asks
// of a contract, so that the document states every bound and every answer
// the code has: each problem is named by where it is in the document.
func TestOpenAPIContractLint(t *testing.T) {
	doc := openapitest.Document(t)
	l := &contractLint{}
	for _, name := range slices.Sorted(maps.Keys(doc.Components.Schemas)) {
		l.schema("components.schemas."+name, doc.Components.Schemas[name])
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Components.Parameters)) {
		l.parameter("components.parameters."+name, doc.Components.Parameters[name])
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Components.Headers)) {
		l.header("components.headers."+name, doc.Components.Headers[name])
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Components.Responses)) {
		l.response("components.responses."+name, doc.Components.Responses[name])
	}
	for _, path := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		item := doc.Paths.Value(path)
		for i, p := range item.Parameters {
			l.parameter(fmt.Sprintf("paths.%s.parameters[%d]", path, i), p)
		}
		for method, op := range item.Operations() {
			l.operation("paths."+path+"."+strings.ToLower(method), op, false)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Webhooks)) {
		for method, op := range doc.Webhooks[name].Operations() {
			l.operation("webhooks."+name+"."+strings.ToLower(method), op, true)
		}
	}
	unrouted, err := openapitest.Unrouted(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, status := range slices.Sorted(maps.Keys(unrouted)) {
		l.response("x-unrouted.responses."+status, &openapi3.ResponseRef{Value: unrouted[status]})
	}
	l.unused(httpapi.OpenAPI())
	for _, p := range l.problems {
		t.Error(p)
	}
}

// unboundedArrays are the arrays the code puts no bound on, so that the
// document cannot state one without inventing it, each with the reason.
var unboundedArrays = map[string]string{
	"components.schemas.CustomFieldList.properties.customFields": "the custom field definitions have no limit on their number yet: every one is listed",
}

// contractLint collects what the document lacks.
type contractLint struct{ problems []string }

func (l *contractLint) errorf(format string, args ...any) {
	l.problems = append(l.problems, fmt.Sprintf(format, args...))
}

// schema checks a schema and every schema inside it; a reference is
// checked where it is defined.
func (l *contractLint) schema(at string, ref *openapi3.SchemaRef) {
	if ref == nil || ref.Ref != "" || ref.Value == nil {
		return
	}
	s := ref.Value
	bounded := len(s.Enum) > 0 || s.Const != nil
	if s.Type.Includes("string") && s.MaxLength == nil && !bounded {
		l.errorf("%s: a string without maxLength", at)
	}
	if s.Type.Includes("array") && s.MaxItems == nil && unboundedArrays[at] == "" {
		l.errorf("%s: an array without maxItems", at)
	}
	if s.Type.Includes("integer") {
		if s.Format != "int32" && s.Format != "int64" {
			l.errorf("%s: an integer without format int32 or int64", at)
		}
		if s.Min == nil || s.Max == nil {
			l.errorf("%s: an integer without minimum and maximum", at)
		}
	}
	if s.Type.Includes("number") && s.Format != "float" && s.Format != "double" {
		l.errorf("%s: a number without format float or double", at)
	}
	for i, ex := range s.Examples {
		if err := s.VisitJSON(ex, openapi3.EnableJSONSchema2020()); err != nil {
			l.errorf("%s.examples[%d]: does not match its schema: %v", at, i, err)
		}
	}
	if s.Example != nil {
		if err := s.VisitJSON(s.Example, openapi3.EnableJSONSchema2020()); err != nil {
			l.errorf("%s.example: does not match its schema: %v", at, err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		l.schema(at+".properties."+name, s.Properties[name])
	}
	l.schema(at+".items", s.Items)
	l.schema(at+".additionalProperties", s.AdditionalProperties.Schema)
	l.schema(at+".not", s.Not)
	for kind, list := range map[string]openapi3.SchemaRefs{"oneOf": s.OneOf, "anyOf": s.AnyOf, "allOf": s.AllOf, "prefixItems": s.PrefixItems} {
		for i, sub := range list {
			l.schema(fmt.Sprintf("%s.%s[%d]", at, kind, i), sub)
		}
	}
}

func (l *contractLint) parameter(at string, ref *openapi3.ParameterRef) {
	if ref.Ref != "" {
		return
	}
	p := ref.Value
	l.schema(at+".schema", p.Schema)
	l.example(at, p.Schema, p.Example, p.Examples)
}

func (l *contractLint) header(at string, ref *openapi3.HeaderRef) {
	if ref.Ref != "" {
		return
	}
	h := ref.Value
	l.schema(at+".schema", h.Schema)
	l.example(at, h.Schema, h.Example, h.Examples)
}

// example checks a parameter's, header's or media type's examples
// against its schema.
func (l *contractLint) example(at string, schema *openapi3.SchemaRef, example any, examples openapi3.Examples) {
	if schema == nil || schema.Value == nil {
		return
	}
	check := func(where string, v any) {
		if err := schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			l.errorf("%s: does not match its schema: %v", where, err)
		}
	}
	if example != nil {
		check(at+".example", example)
	}
	for _, name := range slices.Sorted(maps.Keys(examples)) {
		if ex := examples[name]; ex.Value != nil && ex.Value.Value != nil {
			check(at+".examples."+name, ex.Value.Value)
		}
	}
}

func (l *contractLint) content(at string, content openapi3.Content) {
	for _, mt := range slices.Sorted(maps.Keys(content)) {
		media := content[mt]
		l.schema(at+".content."+mt+".schema", media.Schema)
		l.example(at+".content."+mt, media.Schema, media.Example, media.Examples)
	}
}

func (l *contractLint) response(at string, ref *openapi3.ResponseRef) {
	if ref.Ref != "" {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(ref.Value.Headers)) {
		l.header(at+".headers."+name, ref.Value.Headers[name])
	}
	l.content(at, ref.Value.Content)
}

// rateLimitHeaders are on every answer the API gives after it
// authenticated the key, whatever the status (ratelimit.go).
var rateLimitHeaders = []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}

// operation checks that an operation lists the answers every request of
// its kind can get: a keyed operation 401, 403 and 429 (with Retry-After),
// and the RateLimit headers on all but 401; one with a body 413; a public
// one neither 401 nor 403. A webhook states its security.
func (l *contractLint) operation(at string, op *openapi3.Operation, webhook bool) {
	for i, p := range op.Parameters {
		l.parameter(fmt.Sprintf("%s.parameters[%d]", at, i), p)
	}
	if op.RequestBody != nil && op.RequestBody.Ref == "" {
		l.content(at+".requestBody", op.RequestBody.Value.Content)
	}
	for _, status := range slices.Sorted(maps.Keys(op.Responses.Map())) {
		l.response(at+".responses."+status, op.Responses.Value(status))
	}
	if webhook {
		if op.Security == nil || len(*op.Security) == 0 {
			l.errorf("%s: a webhook without security", at)
		}
		return
	}
	keyed := op.Security == nil || len(*op.Security) > 0
	has := func(status int) bool { return op.Responses.Status(status) != nil }
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests} {
		// A public operation may list 429 still: API Gateway's stage
		// throttling answers it, for any route (Throttled says so).
		switch {
		case keyed && !has(status):
			l.errorf("%s: takes a key, but lists no %d", at, status)
		case !keyed && has(status) && status != http.StatusTooManyRequests:
			l.errorf("%s: public, but lists %d", at, status)
		}
	}
	if op.RequestBody != nil && !has(http.StatusRequestEntityTooLarge) {
		l.errorf("%s: takes a body, but lists no 413", at)
	}
	if !keyed {
		return
	}
	if r := op.Responses.Status(http.StatusTooManyRequests); r != nil && r.Value.Headers["Retry-After"] == nil {
		l.errorf("%s.responses.429: no Retry-After header", at)
	}
	for status, r := range op.Responses.Map() {
		if status == "401" || r.Value == nil {
			continue
		}
		for _, h := range rateLimitHeaders {
			if r.Value.Headers[h] == nil {
				l.errorf("%s.responses.%s: no %s header", at, status, h)
			}
		}
	}
}

// unused names each component nothing refers to: no $ref, and for a
// security scheme no security requirement.
func (l *contractLint) unused(raw []byte) {
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		l.errorf("the document is not JSON: %v", err)
		return
	}
	used := map[string]bool{}
	var walk func(v any, inSecurity bool)
	walk = func(v any, inSecurity bool) {
		switch v := v.(type) {
		case map[string]any:
			for k, sub := range v {
				switch {
				case k == "$ref":
					if s, ok := sub.(string); ok {
						used[s] = true
					}
				case inSecurity:
					used["#/components/securitySchemes/"+k] = true
				}
				walk(sub, k == "security")
			}
		case []any:
			for _, sub := range v {
				walk(sub, inSecurity)
			}
		}
	}
	walk(doc, false)
	components, _ := doc.(map[string]any)["components"].(map[string]any)
	for _, kind := range slices.Sorted(maps.Keys(components)) {
		defs, _ := components[kind].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(defs)) {
			if !used["#/components/"+kind+"/"+name] {
				l.errorf("components.%s.%s: unused", kind, name)
			}
		}
	}
}

// TestOpenAPILimitsMatchCode: each bound the document states is the value
// the code enforces or produces, read from the constant (or the function)
// that does, so that a change on either side fails here.
func TestOpenAPILimitsMatchCode(t *testing.T) {
	var doc any
	if err := json.Unmarshal(httpapi.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	key, _, keyID := auth.NewKey()
	sig, err := events.Sign(events.NewSecret(), "evt_x", now, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	shortestType := slices.MinFunc(events.Types, func(a, b string) int { return len(a) - len(b) })
	// The longest Allow the API answers, as it computes it for each
	// route's path (HEAD beside GET, and the methods of every route the
	// path fits: /tickets/update_many fits /tickets/{id} too).
	longestAllow := 0
	for _, rt := range httpapi.Routes {
		longestAllow = max(longestAllow, len(strings.Join(httpapi.AllowedMethods(httpapi.BasePath+rt.Path), ", ")))
	}
	// A named API Gateway stage (at most 128 characters) and its slash
	// may prefix the paths the API answers with.
	const stagePrefix = 1 + 128
	longestLocation := len(httpapi.BasePath + "/tickets/" + helpdesk.NewID("tkt_") + "/comments/" + helpdesk.NewCommentID(now))
	// A next link: the request's parameters, which fit in its request
	// line, encoded again (each byte at most as three), the cursor, and
	// 512 characters for the stage, the path and the separators.
	longestLink := 3*httpapi.MaxHeaderBytes + cursor.MaxTokenLen + 512
	// The longest id a shape check takes, found by asking it.
	longestID := func(prefix string, valid func(string) bool) int {
		n := 0
		for valid(prefix + strings.Repeat("a", n+1)) {
			n++
		}
		return len(prefix) + n
	}
	// The reference page and its renderer are stated as long as they are
	// served.
	served := func(path string) int {
		rec := httptest.NewRecorder()
		httpapi.NewDocs(slog.New(slog.DiscardHandler), nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, httpapi.BasePath+path, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, rec.Code)
		}
		return rec.Body.Len()
	}
	const s = "/components/schemas/"
	const p = "/components/parameters/"
	const h = "/components/headers/"
	limits := []struct {
		at   string // a JSON pointer into the document
		code int
	}{
		{s + "ReferencePage/maxLength", served("/docs")},
		{s + "ReferenceRenderer/maxLength", served("/docs/redoc-" + httpapi.RedocVersion + ".standalone.js")},
		{s + "Subject/maxLength", helpdesk.MaxSubjectLen},
		{s + "RequesterName/maxLength", helpdesk.MaxRequesterNameLen},
		{s + "RequesterEmail/maxLength", helpdesk.MaxRequesterEmailLen},
		{s + "AssigneeId/maxLength", helpdesk.MaxAssigneeIDLen},
		{s + "Ticket/properties/assigneeId/maxLength", helpdesk.MaxAssigneeIDLen},
		{s + "TicketCreate/properties/assigneeId/maxLength", helpdesk.MaxAssigneeIDLen},
		{s + "TicketUpdate/properties/assigneeId/maxLength", helpdesk.MaxAssigneeIDLen},
		{s + "TicketChanges/properties/assigneeId/maxLength", helpdesk.MaxAssigneeIDLen},
		{s + "Tags/maxItems", helpdesk.MaxTags},
		{s + "Tags/items/maxLength", helpdesk.MaxTagLen},
		{s + "TagEdit/maxItems", helpdesk.MaxTags},
		{s + "TagEdit/items/maxLength", helpdesk.MaxTagLen},
		{s + "Ticket/properties/customFields/maxItems", helpdesk.MaxCustomFieldValues},
		{s + "TicketCreate/properties/customFields/maxItems", helpdesk.MaxCustomFieldValues},
		{s + "TicketUpdate/properties/customFields/maxItems", helpdesk.MaxCustomFieldValues},
		{s + "TicketChanges/properties/customFields/maxItems", helpdesk.MaxCustomFieldValues},
		{s + "DeletedTicket/properties/customFields/maxItems", helpdesk.MaxCustomFieldValues},
		{s + "CustomFieldScalar/oneOf/0/maxLength", helpdesk.MaxTextValueLen},
		{s + "CustomFieldChange/properties/value/oneOf/0/maxLength", helpdesk.MaxTextValueLen},
		{s + "FieldName/maxLength", helpdesk.MaxFieldNameLen},
		{s + "FieldOptions/maxItems", helpdesk.MaxFieldOptions},
		{s + "FieldOptions/items/maxLength", helpdesk.MaxFieldOptionLen},
		{s + "CommentBody/maxLength", helpdesk.MaxCommentBytes},
		{s + "Comment/properties/attachments/maxItems", helpdesk.MaxAttachmentsPerComment},
		{s + "CommentCreate/properties/uploads/maxItems", helpdesk.MaxAttachmentsPerComment},
		{s + "Filename/maxLength", helpdesk.MaxFilenameLen},
		{s + "FileSize/maximum", helpdesk.MaxUploadSize},
		{s + "UploadCreate/properties/contentType/maxLength", helpdesk.MaxContentTypeLen},
		{s + "UploadId/maxLength", len(helpdesk.NewUploadID())},
		{s + "Attachment/properties/id/maxLength", len(helpdesk.NewAttachmentID())},
		{s + "Attachment/properties/url/maxLength", helpdesk.MaxLinkLen},
		{s + "Upload/properties/uploadUrl/maxLength", helpdesk.MaxLinkLen},
		{s + "Upload/properties/uploadHeaders/properties/Content-Length/maxLength", len(strconv.Itoa(helpdesk.MaxUploadSize))},
		{s + "Attachment/properties/urlExpiresAt/maxLength", len(view.FormatTime(now))},
		{s + "Upload/properties/expiresAt/maxLength", len(view.FormatTime(now))},
		{s + "Comment/properties/body/maxLength", helpdesk.MaxCommentBytes},
		{s + "Comment/properties/authorId/maxLength", helpdesk.MaxAssigneeIDLen},
		{s + "Comment/properties/authorEmail/maxLength", helpdesk.MaxRequesterEmailLen},
		{s + "Comment/properties/authorName/maxLength", helpdesk.MaxRequesterNameLen},
		{s + "CommentCreate/properties/authorId/maxLength", helpdesk.MaxAssigneeIDLen},
		{s + "CommentCreate/properties/authorEmail/maxLength", helpdesk.MaxRequesterEmailLen},
		{s + "CommentCreate/properties/authorName/maxLength", helpdesk.MaxRequesterNameLen},
		{s + "WebhookURL/maxLength", helpdesk.MaxWebhookURLLen},
		{s + "WebhookDescription/maxLength", helpdesk.MaxWebhookDescLen},
		{s + "WebhookEvents/maxItems", len(events.Types)},
		{s + "WebhookEventsInput/maxItems", httpapi.MaxBodyBytes / len(`"`+shortestType+`",`)},
		{s + "WebhookSecret/maxLength", len(events.NewSecret())},
		{s + "WebhookList/properties/webhooks/maxItems", helpdesk.MaxWebhooks},
		{s + "ApiKeyName/maxLength", helpdesk.MaxAPIKeyNameLen},
		{s + "Actor/properties/name/maxLength", helpdesk.MaxAPIKeyNameLen},
		{s + "RateLimit/maximum", helpdesk.MaxRateLimit},
		{s + "ApiKeyWithKey/properties/key/maxLength", len(key)},
		{s + "TicketBulkUpdateRequest/properties/ids/maxItems", helpdesk.MaxBulkIDs},
		{s + "TicketBulkUpdateResponse/properties/results/maxItems", helpdesk.MaxBulkIDs},
		{s + "TicketList/properties/tickets/maxItems", helpdesk.MaxPageSize},
		{s + "DeletedTicketList/properties/tickets/maxItems", helpdesk.MaxPageSize},
		{s + "CommentList/properties/comments/maxItems", helpdesk.MaxPageSize},
		{s + "DeliveryList/properties/deliveries/maxItems", helpdesk.MaxPageSize},
		{s + "ApiKeyList/properties/apiKeys/maxItems", helpdesk.MaxPageSize},
		{s + "PageMeta/properties/pageSize/maximum", helpdesk.MaxPageSize},
		{s + "EventList/properties/events/maxItems", helpdesk.MaxEventPageSize},
		{s + "EventPageMeta/properties/pageSize/maximum", helpdesk.MaxEventPageSize},
		{s + "PageLinks/properties/next/maxLength", longestLink},
		{s + "EventPageLinks/properties/next/maxLength", longestLink},
		{s + "ErrorObject/properties/message/maxLength", httpapi.MaxMessageShown},
		{s + "ErrorObject/properties/details/maxItems", helpdesk.MaxDetails},
		{s + "FieldError/properties/field/maxLength", httpapi.MaxFieldShown + 1 /* the "…" */},
		{s + "FieldError/properties/message/maxLength", httpapi.MaxMessageShown},
		{s + "DeliveryAttempt/properties/error/maxLength", view.MaxAttemptErrorLen},
		{s + "DeliveryAttempt/properties/response/maxLength", webhook.ResponseLogBytes},
		{s + "Timestamp/maxLength", len(view.FormatTime(now))},
		{s + "EventTimestamp/maxLength", len(view.FormatTime(now))},
		{s + "Comment/properties/redactedAt/maxLength", len(view.FormatTime(now))},
		{s + "TicketId/maxLength", len(helpdesk.NewID("tkt_"))},
		{s + "CustomFieldId/maxLength", len(helpdesk.NewID("cf_"))},
		{s + "WebhookId/maxLength", len(helpdesk.NewID("whk_"))},
		{s + "ApiKeyId/maxLength", len(keyID)},
		{s + "Actor/properties/id/maxLength", len(keyID)},
		{s + "CommentId/maxLength", len(helpdesk.NewCommentID(now))},
		{p + "PageSize/schema/maximum", helpdesk.MaxPageSize},
		{p + "PageSize/schema/default", helpdesk.DefaultPageSize},
		{p + "EventPageSize/schema/maximum", helpdesk.MaxEventPageSize},
		{p + "EventPageSize/schema/default", helpdesk.DefaultEventPageSize},
		{p + "After/schema/maxLength", cursor.MaxTokenLen},
		{p + "EventCursor/schema/maxLength", cursor.MaxTokenLen},
		{p + "EventTypeFilter/schema/maxLength", httpapi.MaxHeaderBytes},
		{p + "EventTicketFilter/schema/maxLength", longestID("tkt_", helpdesk.ValidTicketID)},
		{p + "IdempotencyKey/schema/maxLength", helpdesk.MaxIdempotencyKeyLen},
		{p + "IfMatch/schema/maxLength", httpapi.MaxHeaderBytes},
		{p + "WebhookTimestampHeader/schema/maxLength", len(strconv.FormatInt(math.MaxInt64, 10))},
		{p + "WebhookSignatureHeader/schema/maxLength", 2*len(sig) + 1},
		{p + "WebhookUserAgent/schema/maxLength", len(webhook.UserAgent)},
		{h + "Location/schema/maxLength", stagePrefix + longestLocation},
		{h + "ETag/schema/maxLength", len(strconv.Quote(strconv.FormatInt(math.MaxInt64, 10)))},
		{"/x-unrouted/responses/405/headers/Allow/schema/maxLength", longestAllow},
		{h + "Retry-After/schema/minimum", httpapi.RetryAfterUnavailable},
		{h + "Retry-After/schema/maximum", httpapi.RetryAfterUnavailable},
		{h + "RateLimit-Reset/schema/maximum", int(ratelimit.DefaultWindow / time.Second)},
		{"/components/responses/Throttled/headers/Retry-After/schema/maximum", int(ratelimit.DefaultWindow / time.Second)},
		{h + "RateLimit-Limit/schema/maximum", helpdesk.MaxRateLimit},
		{h + "RateLimit-Remaining/schema/maximum", helpdesk.MaxRateLimit},
	}
	for _, c := range limits {
		got, err := pointer(doc, c.at)
		if err != nil {
			t.Errorf("%s: %v", c.at, err)
			continue
		}
		if n, ok := got.(float64); !ok || n != float64(c.code) {
			t.Errorf("%s: the document says %v, the code %d", c.at, got, c.code)
		}
	}
}

// pointer resolves a JSON pointer (RFC 6901, without escapes) in v.
func pointer(v any, at string) (any, error) {
	for _, tok := range strings.Split(strings.TrimPrefix(at, "/"), "/") {
		switch node := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = node[tok]; !ok {
				return nil, fmt.Errorf("no %q", tok)
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(node) {
				return nil, fmt.Errorf("no item %q", tok)
			}
			v = node[i]
		default:
			return nil, fmt.Errorf("%q is not inside an object or array", tok)
		}
	}
	return v, nil
}
