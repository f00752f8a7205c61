package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
	"github.com/acme/helpdesk/internal/openapitest"
)

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != httpapi.BasePath {
		t.Errorf("servers %v, want the base path %s", doc.Servers, httpapi.BasePath)
	}
}

// TestOpenAPIRoutes: every route has its operation, every operation its
// route, each with the route's permission.
func TestOpenAPIRoutes(t *testing.T) {
	doc := openapitest.Document(t)
	routes := map[string]httpapi.Route{}
	for _, rt := range httpapi.Routes {
		routes[rt.Method+" "+rt.Path] = rt
	}
	seen := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			seen[key] = true
			rt, ok := routes[key]
			if !ok {
				t.Errorf("the document has %s (%s); httpapi.Routes has no such route", key, op.OperationID)
				continue
			}
			perm, _ := op.Extensions["x-permission"].(string)
			public := op.Security != nil && len(*op.Security) == 0
			switch {
			case rt.Public() && (!public || perm != ""):
				t.Errorf("%s is public, but the document asks for a key (x-permission %q)", key, perm)
			case !rt.Public() && (public || op.Security == nil || perm != string(rt.Needs)):
				t.Errorf("%s needs %s, but the document says x-permission %q, security %v", key, rt.Needs, perm, op.Security)
			case !rt.Public() && !strings.Contains(op.Description, "Needs the `"+string(rt.Needs)+"` permission."):
				t.Errorf("%s: the description does not name the %s permission", key, rt.Needs)
			}
		}
	}
	for key := range routes {
		if !seen[key] {
			t.Errorf("route %s has no operation in the document", key)
		}
	}
}

// TestOpenAPIMatchesDomain compares the document's enums and limits with
// the domain's.
func TestOpenAPIMatchesDomain(t *testing.T) {
	doc := openapitest.Document(t)
	schema := func(name string) *openapi3.Schema {
		ref := doc.Components.Schemas[name]
		if ref == nil {
			t.Fatalf("no schema %s", name)
		}
		return ref.Value
	}
	strs := func(values []any) []string {
		out := make([]string, len(values))
		for i, v := range values {
			out[i] = fmt.Sprint(v)
		}
		return out
	}
	enums := map[string][]string{
		"Status":        names(helpdesk.Statuses),
		"Priority":      names(helpdesk.Priorities),
		"TicketType":    names(helpdesk.Types),
		"FieldType":     names(helpdesk.FieldTypes),
		"EventType":     events.Types,
		"WebhookStatus": {string(helpdesk.WebhookActive), string(helpdesk.WebhookDisabled)},
	}
	for name, want := range enums {
		if got := strs(schema(name).Enum); !slices.Equal(got, want) {
			t.Errorf("%s enum %v, want %v", name, got, want)
		}
	}
	sortBy := doc.Components.Parameters["SortBy"].Value.Schema.Value
	if got := strs(sortBy.Enum); !slices.Equal(got, names(helpdesk.SortFields)) {
		t.Errorf("sort_by enum %v, want %v", got, helpdesk.SortFields)
	}
	pageSize := doc.Components.Parameters["PageSize"].Value.Schema.Value
	if *pageSize.Max != helpdesk.MaxPageSize || pageSize.Default != float64(helpdesk.DefaultPageSize) {
		t.Errorf("page_size maximum %v, default %v", *pageSize.Max, pageSize.Default)
	}
	eventPageSize := doc.Components.Parameters["EventPageSize"].Value.Schema.Value
	if *eventPageSize.Max != helpdesk.MaxEventPageSize || eventPageSize.Default != float64(helpdesk.DefaultEventPageSize) ||
		*schema("EventPageMeta").Properties["pageSize"].Value.Max != helpdesk.MaxEventPageSize {
		t.Errorf("the event lists' page_size maximum %v, default %v", *eventPageSize.Max, eventPageSize.Default)
	}
	// The type filter takes every event type, alone and in a list, and
	// nothing else.
	typeFilter := doc.Components.Parameters["EventTypeFilter"].Value.Schema.Value
	for _, v := range append(slices.Clone(events.Types), strings.Join(events.Types, ","), "ticket.created,ticket.created") {
		if err := typeFilter.VisitJSON(v); err != nil {
			t.Errorf("the type filter refuses %q: %v", v, err)
		}
	}
	for _, v := range []string{"", "ticket.closed", "ticket.created,", "ticket.created ticket.updated", "ticketxcreated"} {
		if typeFilter.VisitJSON(v) == nil {
			t.Errorf("the type filter takes %q", v)
		}
	}
	// Each error code the document names has the status it says, which is
	// the status the API answers with.
	codes := schema("ErrorCode")
	for _, c := range strs(codes.Enum) {
		status := httpapi.StatusOf(&helpdesk.Error{Code: helpdesk.Code(c)})
		if c != string(helpdesk.CodeInternal) && status == http.StatusInternalServerError || !strings.Contains(codes.Description, fmt.Sprintf("%s %d", c, status)) {
			t.Errorf("error code %s: the API answers %d; the document says %q", c, status, codes.Description)
		}
	}
	if !slices.Contains(strs(codes.Enum), string(helpdesk.CodeGone)) {
		t.Errorf("the error codes %v lack %s", codes.Enum, helpdesk.CodeGone)
	}
	var hooks []string
	for name := range doc.Webhooks {
		hooks = append(hooks, name)
	}
	if !slices.Equal(slices.Sorted(slices.Values(hooks)), slices.Sorted(slices.Values(events.Types))) {
		t.Errorf("webhooks %v, want one per event type %v", hooks, events.Types)
	}
}

func names[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// TestEventExamples checks the example payloads subscribers are pointed to
// against the document's webhooks.
func TestEventExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "testdata", "*.json"))
	if err != nil || len(files) != len(events.Types) {
		t.Fatalf("examples %v (%v), want one per event type", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			openapitest.CheckEvent(t, body)
		})
	}
}

// TestOpenAPIServed: the document is served as it is, to anyone, and may be
// cached.
func TestOpenAPIServed(t *testing.T) {
	e, _ := newAPI(t)
	for name, key := range map[string]string{"NoKey": "", "UnknownKey": "hd_" + strings.Repeat("A", 43), "ReadKey": e.keys[helpdesk.PermRead]} {
		t.Run(name, func(t *testing.T) {
			res := e.doKey("GET", base+"/openapi.json", key, nil)
			res.want(t, http.StatusOK, "")
			if !bytes.Equal(res.raw, httpapi.OpenAPI()) {
				t.Fatal("the served document differs from httpapi.OpenAPI")
			}
			if cc := res.header.Get("Cache-Control"); cc != "public, max-age=300" {
				t.Fatalf("Cache-Control %q", cc)
			}
		})
	}
	t.Run("OtherMethod", func(t *testing.T) {
		res := e.doKey("POST", base+"/openapi.json", "", "{}")
		res.want(t, http.StatusMethodNotAllowed, helpdesk.CodeMethodNotAllowed)
	})
	t.Run("DocsEndpointAlone", func(t *testing.T) {
		// As the openapi function wires it: no service, no authenticator.
		h := httpapi.NewDocs(slog.New(slog.DiscardHandler), nil)
		req, _ := http.NewRequest("GET", base+"/openapi.json", nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), httpapi.OpenAPI()) {
			t.Fatalf("status %d", rec.Code)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", base+"/tickets", nil))
		if rec.Code != http.StatusNotFound {
			t.Fatalf("the docs function serves GET /tickets: %d", rec.Code)
		}
	})
}
