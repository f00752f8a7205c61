package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/config"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
)

const (
	pageOrigin  = "http://localhost:5173"
	otherOrigin = "https://evil.example.com"
)

// corsAPI serves the whole API, assembled as every process does, to pages
// of origins, with a limit of rateLimit requests a minute per key (none
// when zero), and returns its URL and a read key.
func corsAPI(tb testing.TB, origins []string, rateLimit int) (url, key string) {
	tb.Helper()
	table := dynamotest.NewTable(tb, dynamo.Table.CreateTableInput)
	cfg := config.Config{Table: table, CursorKey: cursorKey, RateLimit: rateLimit, CORSOrigins: origins}
	sys, err := app.New(cfg, app.Clients{DynamoDB: dynamotest.Client(tb)}, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(serve.Handler(sys))
	tb.Cleanup(srv.Close)
	return srv.URL, dynamotest.AddKey(tb, sys.Store, helpdesk.PermRead)
}

// corsDo sends a request with header and fails the test if the answer
// allows credentials, which no answer of the API ever may.
func corsDo(tb testing.TB, method, url string, header map[string]string) *http.Response {
	tb.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	if v, ok := res.Header["Access-Control-Allow-Credentials"]; ok {
		tb.Fatalf("%s %s: Access-Control-Allow-Credentials %q", method, url, v)
	}
	return res
}

// preflight asks, as a browser from origin does, whether method may follow.
func preflight(tb testing.TB, url, origin, method string) *http.Response {
	tb.Helper()
	return corsDo(tb, http.MethodOptions, url, map[string]string{
		"Origin": origin, "Access-Control-Request-Method": method,
		"Access-Control-Request-Headers": "authorization,content-type,idempotency-key,if-match",
	})
}

// corsHeaders returns the Access-Control-* headers of an answer.
func corsHeaders(res *http.Response) http.Header {
	out := http.Header{}
	for k, v := range res.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			out[k] = v
		}
	}
	return out
}

// list splits a comma-separated header value.
func list(v string) []string {
	var out []string
	for s := range strings.SplitSeq(v, ",") {
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

// concrete fills a route's path parameters with ids of the right shape.
func concrete(path string) string {
	return strings.NewReplacer("{id}", "tkt_aaaaaaaaaaaaaaaaaaaaaaaa", "{commentId}", "cmt_aaaaaaaaaaaaaaaaaaaaaaaa", "{eventId}", "evt_aaaaaaaaaaaaaaaaaaaaaaaa").Replace(path)
}

func TestCORSPolicy(t *testing.T) {
	for _, rt := range httpapi.Routes {
		if !slices.Contains(httpapi.CORS.AllowMethods, rt.Method) {
			t.Errorf("%s %s: method not allowed by CORS", rt.Method, rt.Path)
		}
	}
	for _, h := range []string{"Authorization", "Content-Type", "Idempotency-Key", "If-Match"} {
		if !slices.Contains(httpapi.CORS.AllowHeaders, h) {
			t.Errorf("request header %s not allowed", h)
		}
	}
	for _, h := range []string{"ETag", "Location", "Idempotent-Replayed", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "X-Request-Id", "WWW-Authenticate"} {
		if !slices.Contains(httpapi.CORS.ExposeHeaders, h) {
			t.Errorf("response header %s not exposed", h)
		}
	}
}

func TestCORSPreflight(t *testing.T) {
	url, _ := corsAPI(t, []string{"https://desk.example.com", pageOrigin}, 0)
	for _, rt := range httpapi.Routes {
		t.Run(rt.Method+" "+rt.Path, func(t *testing.T) {
			res := preflight(t, url+httpapi.BasePath+concrete(rt.Path), pageOrigin, rt.Method)
			h := res.Header
			if res.StatusCode != http.StatusNoContent {
				t.Fatalf("status %d, want 204", res.StatusCode)
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != pageOrigin {
				t.Errorf("Allow-Origin %q, want %q", got, pageOrigin)
			}
			if got := list(h.Get("Access-Control-Allow-Methods")); !slices.Contains(got, rt.Method) {
				t.Errorf("Allow-Methods %q lacks %s", got, rt.Method)
			}
			if got := list(h.Get("Access-Control-Allow-Headers")); !slices.Equal(got, httpapi.CORS.AllowHeaders) {
				t.Errorf("Allow-Headers %q, want %q", got, httpapi.CORS.AllowHeaders)
			}
			if got := h.Get("Access-Control-Max-Age"); got != strconv.Itoa(int(httpapi.CORS.MaxAge.Seconds())) {
				t.Errorf("Max-Age %q", got)
			}
			if !slices.Contains(h.Values("Vary"), "Origin") {
				t.Errorf("Vary %q, want Origin", h.Values("Vary"))
			}
		})
	}
	t.Run("UnknownPath", func(t *testing.T) {
		// API Gateway answers preflights for any path.
		res := preflight(t, url+"/nowhere", pageOrigin, http.MethodGet)
		if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != pageOrigin {
			t.Fatalf("status %d, headers %v", res.StatusCode, corsHeaders(res))
		}
	})
	t.Run("OtherOrigin", func(t *testing.T) {
		res := preflight(t, url+httpapi.BasePath+"/tickets", otherOrigin, http.MethodPost)
		if res.StatusCode != http.StatusNoContent || len(corsHeaders(res)) > 0 {
			t.Fatalf("status %d, headers %v; want 204 without CORS headers", res.StatusCode, corsHeaders(res))
		}
	})
	t.Run("NotAPreflight", func(t *testing.T) {
		// OPTIONS without Access-Control-Request-Method asks nothing of
		// CORS: it is answered as any other method.
		res := corsDo(t, http.MethodOptions, url+httpapi.BasePath+"/tickets", map[string]string{"Origin": pageOrigin})
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Access-Control-Allow-Origin") != pageOrigin {
			t.Fatalf("status %d, headers %v", res.StatusCode, corsHeaders(res))
		}
	})
}

func TestCORSAnswers(t *testing.T) {
	url, key := corsAPI(t, []string{pageOrigin}, 1)
	tickets := url + httpapi.BasePath + "/tickets"
	withKey := map[string]string{"Origin": pageOrigin, "Authorization": "Bearer " + key}
	cases := []struct {
		name, method, url string
		header            map[string]string
		status            int
	}{
		{"OK", http.MethodGet, tickets, withKey, http.StatusOK},
		{"RateLimited", http.MethodGet, tickets, withKey, http.StatusTooManyRequests},
		{"Public", http.MethodGet, url + httpapi.BasePath + "/openapi.json", map[string]string{"Origin": pageOrigin}, http.StatusOK},
		{"Unauthorized", http.MethodGet, tickets, map[string]string{"Origin": pageOrigin}, http.StatusUnauthorized},
		{"NotFound", http.MethodGet, url + httpapi.BasePath + "/nowhere", map[string]string{"Origin": pageOrigin}, http.StatusNotFound},
		{"MethodNotAllowed", http.MethodPatch, tickets, map[string]string{"Origin": pageOrigin}, http.StatusMethodNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := corsDo(t, tc.method, tc.url, tc.header)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			wantAllowed(t, res, pageOrigin)
		})
	}
	t.Run("OtherOrigin", func(t *testing.T) {
		res := corsDo(t, http.MethodGet, tickets, map[string]string{"Origin": otherOrigin})
		if res.StatusCode != http.StatusUnauthorized || len(corsHeaders(res)) > 0 || !slices.Contains(res.Header.Values("Vary"), "Origin") {
			t.Fatalf("status %d, headers %v; want 401 without CORS headers, Vary: Origin", res.StatusCode, res.Header)
		}
	})
	t.Run("NoOrigin", func(t *testing.T) {
		res := corsDo(t, http.MethodGet, tickets, nil)
		if len(corsHeaders(res)) > 0 {
			t.Fatalf("headers %v for a request without Origin", corsHeaders(res))
		}
	})
}

// wantAllowed fails unless the answer lets a page of origin read it and
// the headers CORS exposes.
func wantAllowed(tb testing.TB, res *http.Response, origin string) {
	tb.Helper()
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != origin {
		tb.Errorf("Allow-Origin %q, want %q", got, origin)
	}
	if got := list(res.Header.Get("Access-Control-Expose-Headers")); !slices.Equal(got, httpapi.CORS.ExposeHeaders) {
		tb.Errorf("Expose-Headers %q, want %q", got, httpapi.CORS.ExposeHeaders)
	}
}

func TestCORSAnyOrigin(t *testing.T) {
	url, _ := corsAPI(t, []string{"*"}, 0)
	res := preflight(t, url+httpapi.BasePath+concrete("/tickets/{id}"), otherOrigin, http.MethodPut)
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight: status %d, headers %v", res.StatusCode, corsHeaders(res))
	}
	res = corsDo(t, http.MethodGet, url+httpapi.BasePath+"/tickets", map[string]string{"Origin": otherOrigin})
	wantAllowed(t, res, "*")
	if v := res.Header.Values("Vary"); slices.Contains(v, "Origin") {
		t.Errorf("Vary %q: the answer is the same for every origin", v)
	}
}

func TestCORSNone(t *testing.T) {
	url, _ := corsAPI(t, nil, 0)
	res := preflight(t, url+httpapi.BasePath+"/tickets", pageOrigin, http.MethodPost)
	if res.StatusCode != http.StatusMethodNotAllowed || len(corsHeaders(res)) > 0 {
		t.Fatalf("preflight: status %d, headers %v; want 405 without CORS headers", res.StatusCode, corsHeaders(res))
	}
	res = corsDo(t, http.MethodGet, url+httpapi.BasePath+"/openapi.json", map[string]string{"Origin": pageOrigin})
	if len(corsHeaders(res)) > 0 || slices.Contains(res.Header.Values("Vary"), "Origin") {
		t.Fatalf("headers %v without origins configured", res.Header)
	}
}

// faultyAuth fails every authentication with fail.
type faultyAuth struct{ fail func() error }

func (a faultyAuth) Authenticate(context.Context, string) (helpdesk.Caller, error) {
	return helpdesk.Caller{}, a.fail()
}

// TestCORSFailures checks the answers to faults no real dependency can be
// made to give on demand: an internal error and a panic.
func TestCORSFailures(t *testing.T) {
	for name, fail := range map[string]func() error{
		"Internal": func() error { return errors.New("the key store broke") },
		"Panic":    func() error { panic("the key store broke") },
	} {
		t.Run(name, func(t *testing.T) {
			logs := &bytes.Buffer{}
			srv := httptest.NewServer(httpapi.New(httpapi.Config{Auth: faultyAuth{fail}, CORSOrigins: []string{pageOrigin}, Logger: slog.New(slog.NewJSONHandler(logs, nil))}))
			t.Cleanup(srv.Close)
			res := corsDo(t, http.MethodGet, srv.URL+httpapi.BasePath+"/tickets", map[string]string{"Origin": pageOrigin, "Authorization": "Bearer x"})
			if res.StatusCode != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500; logs %s", res.StatusCode, logs)
			}
			wantAllowed(t, res, pageOrigin)
		})
	}
}

// TestCORSThroughLambdaAdapter: a preflight that API Gateway hands a
// function (the $default route takes OPTIONS) is answered 204 through the
// adapter the functions use, here the openapi function's handler.
func TestCORSThroughLambdaAdapter(t *testing.T) {
	proxy := httpadapter.NewV2(httpapi.NewDocs(slog.New(slog.DiscardHandler), []string{pageOrigin})).ProxyWithContext
	ev := loadEvent(t, "list-tickets.json", map[string]string{"read": ""})
	ev.RequestContext.HTTP.Method = http.MethodOptions
	ev.Headers = map[string]string{"origin": pageOrigin, "access-control-request-method": "PUT"}
	res, err := proxy(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusNoContent || res.Body != "" || res.Headers["Access-Control-Allow-Origin"] != pageOrigin ||
		!slices.Contains(list(res.Headers["Access-Control-Allow-Methods"]), "PUT") {
		t.Fatalf("preflight: %d %v %q", res.StatusCode, res.Headers, res.Body)
	}
}
