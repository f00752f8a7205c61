package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/ratelimit"
	"github.com/acme/helpdesk/internal/subscription"
)

// BasePath prefixes every route.
const BasePath = "/helpdesk/api/v1"

// Endpoint names a group of routes that one Lambda function serves.
type Endpoint string

// The endpoints, one per deployed function.
const (
	ListTickets  Endpoint = "list"
	GetTicket    Endpoint = "get"
	CreateTicket Endpoint = "create"
	UpdateTicket Endpoint = "update"
	DeleteTicket Endpoint = "delete"
	CustomFields Endpoint = "customfields"
	Webhooks     Endpoint = "webhooks"
	// Comments serves a ticket's conversation.
	Comments Endpoint = "comments"
	// Events serves the activity record: the change feed and each
	// ticket's history.
	Events Endpoint = "events"
	// Docs serves the OpenAPI document and the reference page that
	// renders it; it needs no API key and no table.
	Docs Endpoint = "openapi"
	// Trash serves the deleted tickets: their list, restore and purge.
	Trash Endpoint = "trash"
	// APIKeys serves the management of API keys.
	APIKeys Endpoint = "apikeys"
)

// Pages reports whether the endpoint serves a list paged with sealed
// cursors, and so needs the cursor key (its function's main calls
// serve.PagingAPI, and the stack grants it the key's secret).
func (e Endpoint) Pages() bool {
	return e == ListTickets || e == Webhooks || e == Comments || e == Events || e == Trash || e == APIKeys
}

// Endpoints lists every endpoint.
var Endpoints = []Endpoint{ListTickets, GetTicket, CreateTicket, UpdateTicket, DeleteTicket, CustomFields, Webhooks, Comments, Events, Docs, Trash, APIKeys}

// Route is one method and path the API serves, the endpoint that serves
// it, and the permission it needs.
type Route struct {
	Endpoint Endpoint
	Method   string
	Path     string // under BasePath, with {id} for the path parameter
	// Needs is the permission of the API key the route takes; empty for a
	// public route, served without authentication. Any other value that
	// is not a permission closes the route.
	Needs  helpdesk.Permission
	handle func(*api, http.ResponseWriter, *http.Request) error
}

// Public reports whether the route is served without an API key.
func (rt Route) Public() bool { return rt.Needs == "" }

// Methods are the methods the route answers: its own, and HEAD beside
// GET, which Go's mux serves locally and the stack routes deployed (API
// Gateway matches HEAD to no GET route by itself).
func (rt Route) Methods() []string {
	if rt.Method == http.MethodGet {
		return []string{http.MethodGet, http.MethodHead}
	}
	return []string{rt.Method}
}

// Routes lists every route of the API, as the CDK stack maps them to
// functions.
var Routes = []Route{
	{ListTickets, http.MethodGet, "/tickets", helpdesk.PermRead, (*api).listTickets},
	{GetTicket, http.MethodGet, "/tickets/{id}", helpdesk.PermRead, (*api).getTicket},
	{CreateTicket, http.MethodPost, "/tickets", helpdesk.PermWrite, (*api).createTicket},
	{UpdateTicket, http.MethodPut, "/tickets/{id}", helpdesk.PermWrite, (*api).updateTicket},
	{UpdateTicket, http.MethodPost, "/tickets/update_many", helpdesk.PermWrite, (*api).updateTickets},
	{DeleteTicket, http.MethodDelete, "/tickets/{id}", helpdesk.PermWrite, (*api).deleteTicket},
	{CustomFields, http.MethodGet, "/custom_fields", helpdesk.PermRead, (*api).listCustomFields},
	{CustomFields, http.MethodPost, "/custom_fields", helpdesk.PermAdmin, (*api).createCustomField},
	{CustomFields, http.MethodGet, "/custom_fields/{id}", helpdesk.PermRead, (*api).getCustomField},
	{CustomFields, http.MethodPut, "/custom_fields/{id}", helpdesk.PermAdmin, (*api).updateCustomField},
	{CustomFields, http.MethodDelete, "/custom_fields/{id}", helpdesk.PermAdmin, (*api).deleteCustomField},
	{Webhooks, http.MethodGet, "/webhooks", helpdesk.PermRead, (*api).listWebhooks},
	{Webhooks, http.MethodPost, "/webhooks", helpdesk.PermAdmin, (*api).createWebhook},
	{Webhooks, http.MethodGet, "/webhooks/{id}", helpdesk.PermRead, (*api).getWebhook},
	{Webhooks, http.MethodPut, "/webhooks/{id}", helpdesk.PermAdmin, (*api).updateWebhook},
	{Webhooks, http.MethodDelete, "/webhooks/{id}", helpdesk.PermAdmin, (*api).deleteWebhook},
	{Webhooks, http.MethodPost, "/webhooks/{id}/rotate_secret", helpdesk.PermAdmin, (*api).rotateSecret},
	{Webhooks, http.MethodGet, "/webhooks/{id}/deliveries", helpdesk.PermRead, (*api).listDeliveries},
	{Webhooks, http.MethodPost, "/webhooks/{id}/deliveries/{eventId}/replay", helpdesk.PermAdmin, (*api).replayDelivery},
	{Comments, http.MethodGet, "/tickets/{id}/comments", helpdesk.PermRead, (*api).listComments},
	{Comments, http.MethodPost, "/tickets/{id}/comments", helpdesk.PermWrite, (*api).createComment},
	{Comments, http.MethodGet, "/tickets/{id}/comments/{commentId}", helpdesk.PermRead, (*api).getComment},
	{Comments, http.MethodPost, "/tickets/{id}/comments/{commentId}/redact", helpdesk.PermWrite, (*api).redactComment},
	{Comments, http.MethodPost, "/uploads", helpdesk.PermWrite, (*api).createUpload},
	{Events, http.MethodGet, "/events", helpdesk.PermRead, (*api).listEvents},
	{Events, http.MethodGet, "/tickets/{id}/events", helpdesk.PermRead, (*api).listTicketEvents},
	{Docs, http.MethodGet, "/openapi.json", "", (*api).serveOpenAPI},
	{Docs, http.MethodGet, "/docs", "", (*api).serveReference},
	{Docs, http.MethodGet, redocPath, "", (*api).serveRedoc},
	{Trash, http.MethodGet, "/deleted_tickets", helpdesk.PermRead, (*api).listDeletedTickets},
	{Trash, http.MethodPost, "/deleted_tickets/{id}/restore", helpdesk.PermWrite, (*api).restoreTicket},
	{Trash, http.MethodDelete, "/deleted_tickets/{id}", helpdesk.PermAdmin, (*api).purgeTicket},
	{APIKeys, http.MethodGet, "/api_keys", helpdesk.PermAdmin, (*api).listAPIKeys},
	{APIKeys, http.MethodPost, "/api_keys", helpdesk.PermAdmin, (*api).createAPIKey},
	{APIKeys, http.MethodGet, "/api_keys/{id}", helpdesk.PermAdmin, (*api).getAPIKey},
	{APIKeys, http.MethodDelete, "/api_keys/{id}", helpdesk.PermAdmin, (*api).deleteAPIKey},
}

// MaxBodyBytes bounds request bodies; larger ones are answered 413.
const MaxBodyBytes = 256 << 10

// MaxHeaderBytes bounds a request's line and headers together, as API
// Gateway's HTTP API bounds them (10,240 bytes); LimitHeaders answers 431
// beyond.
const MaxHeaderBytes = 10 << 10

// LimitHeaders marks a request whose line and headers (names, values and
// the separators of HTTP/1.1, Host included) exceed MaxHeaderBytes, and
// next, a handler of New, answers it with the JSON 431 HEADERS_TOO_LARGE,
// carrying X-Request-Id and the CORS headers like any answer. It is for a
// server with no API Gateway in front, the local stack's, which must take
// larger headers itself (http.Server.MaxHeaderBytes) for this answer, not
// its own plain-text 431, to reach the client.
func LimitHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := headerBytes(r); n > MaxHeaderBytes {
			r = r.WithContext(context.WithValue(r.Context(), headersTooLarge{}, n))
		}
		next.ServeHTTP(w, r)
	})
}

// headersTooLarge keys the size of headers LimitHeaders found too large.
type headersTooLarge struct{}

// refuseLargeHeaders answers the requests LimitHeaders marked.
func refuseLargeHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n, ok := r.Context().Value(headersTooLarge{}).(int); ok {
			writeError(w, r, helpdesk.Errorf(helpdesk.CodeHeadersTooLarge,
				"The request line and headers take %d bytes; at most %d are accepted.", n, MaxHeaderBytes))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// headerBytes is the size of r's request line and headers as HTTP/1.1
// sends them.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	n += len("Host: ") + len(r.Host) + 2
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + 2 + len(v) + 2
		}
	}
	return n
}

// Authenticator returns who holds the key in an Authorization header
// value. auth.Authenticator implements it.
type Authenticator interface {
	Authenticate(ctx context.Context, header string) (helpdesk.Caller, error)
}

// Config assembles a Handler.
type Config struct {
	// Service, and Auth, are needed with every endpoint but Docs.
	Service *helpdesk.Service
	// Webhooks serves the subscription API; needed only with the Webhooks
	// endpoint.
	Webhooks *subscription.Service
	// Conversations serves comments; needed only with the Comments
	// endpoint.
	Conversations *helpdesk.Conversations
	// Uploads serves POST /uploads; needed only with the Comments
	// endpoint.
	Uploads *helpdesk.Uploads
	// Activity serves the change feed and the tickets' histories; needed
	// only with the Events endpoint.
	Activity *helpdesk.Activity
	// Trash serves the deleted tickets; needed only with the Trash
	// endpoint.
	Trash *helpdesk.Trash
	// Keys serves the API key management; needed only with the APIKeys
	// endpoint.
	Keys *helpdesk.APIKeys
	Auth Authenticator
	// Idempotency keeps the Idempotency-Keys of creates and bulk updates;
	// needed with the CreateTicket, UpdateTicket, CustomFields and Webhooks
	// endpoints.
	Idempotency helpdesk.IdempotencyStore
	// Limiter holds each API key to its rate limit; nil serves without
	// one.
	Limiter *ratelimit.Limiter
	Logger  *slog.Logger
	// CORSOrigins are the origins whose pages may call the API (see
	// CORS); none when empty.
	CORSOrigins []string
	// Endpoints are the route groups to serve; all of them when empty.
	Endpoints []Endpoint
}

type api struct {
	svc      *helpdesk.Service
	hooks    *subscription.Service
	convo    *helpdesk.Conversations
	uploads  *helpdesk.Uploads
	activity *helpdesk.Activity
	trash    *helpdesk.Trash
	keys     *helpdesk.APIKeys
	auth     Authenticator
	idem     helpdesk.IdempotencyStore
	limiter  *ratelimit.Limiter
}

// New returns the API's handler for the configured endpoints. Paths no
// route has are answered 404, and other methods on a route's path 405
// with Allow, both with a JSON error body. Both come from the whole route
// table, not only the configured endpoints: deployed, the function of
// API Gateway's $default route answers for paths other functions serve.
// Pages of cfg.CORSOrigins may call it from a browser, as CORS sets out.
func New(cfg Config) http.Handler {
	a := &api{svc: cfg.Service, hooks: cfg.Webhooks, convo: cfg.Conversations, uploads: cfg.Uploads, activity: cfg.Activity, trash: cfg.Trash, keys: cfg.Keys, auth: cfg.Auth, idem: cfg.Idempotency, limiter: cfg.Limiter}
	mux := http.NewServeMux()
	for _, rt := range Routes {
		if len(cfg.Endpoints) > 0 && !slices.Contains(cfg.Endpoints, rt.Endpoint) {
			continue
		}
		mux.Handle(rt.Method+" "+BasePath+rt.Path, a.route(rt))
	}
	// One catch-all answers what no route takes, from the route table:
	// method-less patterns per path would conflict with the routes
	// (POST /tickets/update_many against GET /tickets/{id}), and the
	// mux's own 405 is plain text.
	mux.HandleFunc("/", unrouted)
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return withCORS(cfg.CORSOrigins, middleware(logger, refuseLargeHeaders(cleanPaths(mux))))
}

// unrouted answers a request no route of the handler takes: 405 with
// Allow when other methods have a route for the path, 404 otherwise, also
// when the route is another function's (which API Gateway never sends
// here).
func unrouted(w http.ResponseWriter, r *http.Request) {
	if allow := allowedMethods(r.URL.Path); len(allow) > 0 && !slices.Contains(allow, r.Method) {
		list := strings.Join(allow, ", ")
		w.Header().Set("Allow", list)
		writeError(w, r, helpdesk.Errorf(helpdesk.CodeMethodNotAllowed, "Method %s is not allowed here; use %s.", r.Method, list))
		return
	}
	writeError(w, r, helpdesk.Errorf(helpdesk.CodeNotFound, "No such resource."))
}

// cleanPaths answers a path the mux would redirect to its clean form
// (//tickets, /./tickets, /tickets/../x) with the JSON 404 instead of the
// mux's redirect with an HTML body: deployed, such a path matches no API
// Gateway route and reaches $default, which answers 404 too.
func cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "" || p != cleanPath(p) {
			unrouted(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cleanPath is the path as the mux cleans it: path.Clean, keeping a
// trailing slash.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// allowedMethods returns the methods of the routes of the whole table
// whose paths match urlPath, in the table's order, each once.
func allowedMethods(urlPath string) []string {
	rest, ok := strings.CutPrefix(urlPath, BasePath)
	if !ok {
		return nil
	}
	var methods []string
	for _, rt := range Routes {
		if !matchPath(rt.Path, rest) {
			continue
		}
		for _, m := range rt.Methods() {
			if !slices.Contains(methods, m) {
				methods = append(methods, m)
			}
		}
	}
	return methods
}

// matchPath reports whether path fits pattern, segment by segment, a
// wildcard ({id}) taking any one non-empty segment, as the mux matches.
func matchPath(pattern, path string) bool {
	want, got := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i, seg := range want {
		if strings.HasPrefix(seg, "{") {
			if got[i] == "" {
				return false
			}
		} else if seg != got[i] {
			return false
		}
	}
	return true
}

// route authenticates and authorizes a request (unless the route is
// public), then runs the route's handler and writes any error it returns.
func (a *api) route(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := info(r)
		ri.route = rt.Method + " " + rt.Path
		err := a.authorize(w, r, ri, rt)
		if err == nil {
			if !rt.Public() {
				// What the request changes is recorded as the key's doing.
				r = r.WithContext(helpdesk.WithActor(r.Context(), helpdesk.KeyActor(ri.caller)))
			}
			err = rt.handle(a, w, r)
		}
		if err != nil {
			writeError(w, r, err)
		}
	})
}

// authorize checks that the request's API key is within its rate limit
// and has the route's permission; a public route takes any request.
func (a *api) authorize(w http.ResponseWriter, r *http.Request, ri *reqInfo, rt Route) error {
	if rt.Public() {
		return nil
	}
	var err error
	ri.caller, err = a.auth.Authenticate(r.Context(), r.Header.Get("Authorization"))
	if err == nil {
		err = a.limit(w, r, ri.caller)
	}
	if err == nil && !ri.caller.Permission.Allows(rt.Needs) {
		err = helpdesk.Errorf(helpdesk.CodeForbidden, "This API key lacks the %s permission.", rt.Needs)
	}
	return err
}

type ctxKey struct{}

// reqInfo is what the middleware knows of a request, shared with the
// handlers through the context.
type reqInfo struct {
	id      string
	logger  *slog.Logger
	route   string
	caller  helpdesk.Caller
	outPath string // the path prefix clients used, for links
}

func info(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{logger: slog.Default()}
}

func logger(r *http.Request) *slog.Logger { return info(r).logger }

// statusWriter remembers the status a handler wrote, and drops the body
// of an answer to HEAD: Go's server drops it too, but through the Lambda
// adapter it would reach API Gateway.
type statusWriter struct {
	http.ResponseWriter
	status int
	head   bool
}

// WriteHeader records the status and passes it on.
func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write records an implicit 200 and passes b on, but for HEAD.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.head {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// middleware gives each request an id and a logger, strips an API Gateway
// stage prefix, recovers panics, and logs one line per request.
func middleware(base *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{id: requestID(r)}
		ri.logger = base.With(slog.String("request_id", ri.id))
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
		stripStage(r, ri)
		sw := &statusWriter{ResponseWriter: w, head: r.Method == http.MethodHead}
		sw.Header().Set("X-Request-Id", ri.id)
		// API answers are not to be cached; a handler may allow it (the
		// OpenAPI document).
		sw.Header().Set("Cache-Control", "no-store")
		sw.Header().Set("X-Content-Type-Options", "nosniff")
		defer func() {
			if v := recover(); v != nil {
				ri.logger.ErrorContext(r.Context(), "panic serving request", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				if sw.status == 0 {
					writeError(sw, r, fmt.Errorf("panic: %v", v))
				}
			}
			ri.logger.InfoContext(r.Context(), "request",
				slog.String("method", r.Method), slog.String("route", ri.route),
				slog.Int("status", sw.status), slog.Int64("duration_ms", time.Since(start).Milliseconds()))
		}()
		next.ServeHTTP(sw, r)
	})
}

// requestID is API Gateway's request id when the request came through it,
// otherwise a fresh random one.
func requestID(r *http.Request) string {
	if gw, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && gw.RequestID != "" {
		return gw.RequestID
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// stripStage removes a named API Gateway stage from the front of the path,
// which HTTP API events carry in rawPath, and remembers it for links.
func stripStage(r *http.Request, ri *reqInfo) {
	gw, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || gw.Stage == "" || gw.Stage == "$default" {
		return
	}
	prefix := "/" + gw.Stage
	if rest, ok := strings.CutPrefix(r.URL.Path, prefix); ok && strings.HasPrefix(rest, "/") {
		ri.outPath = prefix
		r.URL.Path = rest
		r.URL.RawPath = ""
	}
}

// reply is a response made before it is written, so that an idempotent
// create can store the very bytes it answers with.
type reply struct {
	status int
	header map[string]string
	body   []byte
}

// jsonReply is a reply with v as its JSON body.
func jsonReply(status int, v any) reply {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the wire types always encode
	return reply{status: status, header: map[string]string{}, body: buf.Bytes()}
}

// write sends the reply.
func (rp reply) write(w http.ResponseWriter) {
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rp.status)
	_, _ = w.Write(rp.body) // the client may have gone; nothing to do
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) { jsonReply(status, v).write(w) }

// NewDocs is the handler of the openapi function: the OpenAPI document
// and its reference page, served without a key, and JSON 404s and 405s for
// everything else; pages of corsOrigins may read them from a browser.
func NewDocs(logger *slog.Logger, corsOrigins []string) http.Handler {
	return New(Config{Logger: logger, CORSOrigins: corsOrigins, Endpoints: []Endpoint{Docs}})
}
