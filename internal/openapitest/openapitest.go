package openapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/acme/helpdesk/internal/httpapi"
)

// contract is the loaded document, a router over its paths, and its
// answers to requests that match no path (Unrouted).
type contract struct {
	doc      *openapi3.T
	router   routers.Router
	unrouted map[string]*openapi3.Response
}

// load parses and validates the document once per test binary. The
// router is built on a second copy without servers, so that it matches
// paths relative to httpapi.BasePath whatever host the suites talk to.
var load = sync.OnceValues(func() (*contract, error) {
	doc, err := parse()
	if err != nil {
		return nil, err
	}
	routed, err := parse()
	if err != nil {
		return nil, err
	}
	routed.Servers = nil
	router, err := legacy.NewRouter(routed)
	if err != nil {
		return nil, fmt.Errorf("route the OpenAPI document: %w", err)
	}
	unrouted, err := Unrouted(doc)
	if err != nil {
		return nil, err
	}
	return &contract{doc: doc, router: router, unrouted: unrouted}, nil
})

// Unrouted returns the document's answers to a request that matches no
// operation, by status, from its x-unrouted extension: no operation has
// them, so they cannot be components (which must all be used), and kin-
// openapi leaves an extension as JSON, so its references to components
// are resolved here.
func Unrouted(doc *openapi3.T) (map[string]*openapi3.Response, error) {
	raw, err := json.Marshal(doc.Extensions["x-unrouted"])
	if err != nil {
		return nil, fmt.Errorf("x-unrouted: %w", err)
	}
	var ext struct {
		Responses map[string]*openapi3.ResponseRef `json:"responses"`
	}
	if err := json.Unmarshal(raw, &ext); err != nil {
		return nil, fmt.Errorf("x-unrouted: %w", err)
	}
	out := map[string]*openapi3.Response{}
	for status, ref := range ext.Responses {
		resp := ref.Value
		if ref.Ref != "" {
			c := doc.Components.Responses[component(ref.Ref)]
			if c == nil {
				return nil, fmt.Errorf("x-unrouted %s: no component %s", status, ref.Ref)
			}
			resp = c.Value
		}
		for name, h := range resp.Headers {
			if h.Ref != "" {
				c := doc.Components.Headers[component(h.Ref)]
				if c == nil {
					return nil, fmt.Errorf("x-unrouted %s header %s: no component %s", status, name, h.Ref)
				}
				h.Value = c.Value
			}
		}
		for _, media := range resp.Content {
			if media.Schema != nil && media.Schema.Ref != "" {
				c := doc.Components.Schemas[component(media.Schema.Ref)]
				if c == nil {
					return nil, fmt.Errorf("x-unrouted %s: no component %s", status, media.Schema.Ref)
				}
				media.Schema.Value = c.Value
			}
		}
		out[status] = resp
	}
	if out["404"] == nil || out["405"] == nil {
		return nil, errors.New("x-unrouted: want the 404 and 405 answers")
	}
	return out, nil
}

// component is the name a component reference ends with.
func component(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

func parse() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI())
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is invalid: %w", err)
	}
	return doc, nil
}

func mustLoad(tb testing.TB) *contract {
	tb.Helper()
	c, err := load()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Document returns the API's OpenAPI document, loaded and validated. The
// caller must not modify it.
func Document(tb testing.TB) *openapi3.T {
	tb.Helper()
	return mustLoad(tb).doc
}

// Transport returns an http.RoundTripper that sends each request through
// next (http.DefaultTransport when nil) and checks the exchange against
// the document, reporting every mismatch with tb.Errorf. Requests must be
// made to the API's base path on any host.
func Transport(tb testing.TB, next http.RoundTripper) http.RoundTripper {
	tb.Helper()
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{tb: tb, next: next, c: mustLoad(tb)}
}

// Client returns an http.Client on Transport(tb, nil) that does not follow
// redirects (the API sends none; one would be a bug worth seeing).
func Client(tb testing.TB) *http.Client {
	tb.Helper()
	return &http.Client{
		Transport:     Transport(tb, nil),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type transport struct {
	tb   testing.TB
	next http.RoundTripper
	c    *contract
}

// RoundTrip sends req and checks the exchange once the whole response has
// been read; the caller gets the response as it came.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		reqBody, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("openapitest: read the request body: %w", err)
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
	}
	res, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resBody, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("openapitest: read the response body: %w", err)
	}
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	for _, problem := range t.c.check(req, reqBody, res, resBody) {
		t.tb.Errorf("openapi: %s %s → %d: %s", req.Method, req.URL.RequestURI(), res.StatusCode, problem)
	}
	return res, nil
}

// check returns what is wrong with an exchange, by the document.
func (c *contract) check(req *http.Request, reqBody []byte, res *http.Response, resBody []byte) []string {
	if req.Method == http.MethodHead {
		return c.checkHead(req, res)
	}
	ctx := context.Background()
	rel, routed := relative(req.URL)
	var route *routers.Route
	var params map[string]string
	if routed {
		var err error
		r := rel(req, reqBody)
		route, params, err = c.router.FindRoute(r)
		// The router forgives a trailing slash; the API does not.
		routed = err == nil && matches(route.Path, r.URL.Path)
	}
	if !routed {
		return c.checkUnrouted(req, res, resBody)
	}

	in := &openapi3filter.RequestValidationInput{
		Request:    rel(req, reqBody),
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:  bearerPresent,
			SkipSettingDefaults: true,
		},
	}
	var problems []string
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	var security *openapi3filter.SecurityRequirementsError
	switch {
	case errors.As(reqErr, &security) && res.StatusCode != http.StatusUnauthorized:
		problems = append(problems, fmt.Sprintf("the request has no Bearer key (%v), so the answer must be 401", reqErr))
	case reqErr != nil && res.StatusCode < 400:
		problems = append(problems, fmt.Sprintf("the document rejects the request, but the API accepted it: %v", reqErr))
	}

	in.Request = rel(req, reqBody) // the body was consumed
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	out.SetBodyBytes(resBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		problems = append(problems, fmt.Sprintf("the response does not match the document: %v", err))
	} else if ref := route.Operation.Responses.Status(res.StatusCode); ref != nil {
		problems = append(problems, checkCode(ref.Value, resBody)...)
	}
	return problems
}

// checkHead checks the answer to a HEAD request, which is GET's answer
// without the body (RFC 9110) and so is not in the document: its status
// must be one the GET operation documents.
func (c *contract) checkHead(req *http.Request, res *http.Response) []string {
	get := req.Clone(context.Background())
	get.Method = http.MethodGet
	rel, routed := relative(get.URL)
	var route *routers.Route
	if routed {
		r := rel(get, nil)
		var err error
		route, _, err = c.router.FindRoute(r)
		routed = err == nil && matches(route.Path, r.URL.Path)
	}
	if !routed {
		switch res.StatusCode {
		case http.StatusNotFound:
			return nil
		case http.StatusMethodNotAllowed:
			return c.checkAllow(req, res)
		}
		return []string{"no GET operation of the document matches the request, so the answer must be 404 or 405"}
	}
	if route.Operation.Responses.Status(res.StatusCode) == nil && route.Operation.Responses.Default() == nil {
		return []string{fmt.Sprintf("HEAD is GET without the body, and GET %s does not document %d", route.Path, res.StatusCode)}
	}
	return nil
}

// checkUnrouted checks the answer to a request that matches no operation.
func (c *contract) checkUnrouted(req *http.Request, res *http.Response, resBody []byte) []string {
	switch res.StatusCode {
	case http.StatusNotFound:
		if gatewayNotFound(res, resBody) {
			return nil
		}
		return c.checkUnroutedAnswer("404", res, resBody)
	case http.StatusMethodNotAllowed:
		return append(c.checkUnroutedAnswer("405", res, resBody), c.checkAllow(req, res)...)
	default:
		return []string{"no operation of the document matches the request, so the answer must be 404 or 405"}
	}
}

// checkAllow checks the Allow of a 405: the path's methods, without the
// request's.
func (c *contract) checkAllow(req *http.Request, res *http.Response) []string {
	methods := c.methods(req.URL)
	allow := strings.Split(res.Header.Get("Allow"), ", ")
	slices.Sort(allow)
	if len(methods) == 0 || !slices.Equal(allow, methods) || slices.Contains(methods, req.Method) {
		return []string{fmt.Sprintf("Allow %q, but the document's operations on this path are %v", res.Header.Get("Allow"), methods)}
	}
	return nil
}

// checkUnroutedAnswer checks a response against the document's answer
// with that status to a request that matches no operation.
func (c *contract) checkUnroutedAnswer(status string, res *http.Response, resBody []byte) []string {
	resp := c.unrouted[status]
	var problems []string
	for h, ref := range resp.Headers {
		if ref.Value.Required && res.Header.Get(h) == "" {
			problems = append(problems, fmt.Sprintf("no %s header (%s)", h, status))
		}
	}
	media := resp.Content.Get(res.Header.Get("Content-Type"))
	if media == nil {
		return append(problems, fmt.Sprintf("Content-Type %q, not one of response %s", res.Header.Get("Content-Type"), status))
	}
	if err := visit(media.Schema.Value, resBody); err != nil {
		problems = append(problems, fmt.Sprintf("the body does not match response %s: %v", status, err))
	}
	return append(problems, checkCode(resp, resBody)...)
}

// checkCode checks that an error body has the code its response names.
func checkCode(resp *openapi3.Response, body []byte) []string {
	want, _ := resp.Extensions["x-error-code"].(string)
	if want == "" {
		return nil
	}
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != want {
		return []string{fmt.Sprintf("error code %q, want %s", e.Error.Code, want)}
	}
	return nil
}

// methods returns the document's methods on the path of u, sorted, of
// every path that matches it (/tickets/update_many matches
// /tickets/{id} too); none when no path of the document matches.
func (c *contract) methods(u *url.URL) []string {
	rel, ok := strings.CutPrefix(u.Path, httpapi.BasePath)
	if !ok {
		return nil
	}
	var out []string
	for template, item := range c.doc.Paths.Map() {
		if matches(template, rel) {
			for m := range item.Operations() {
				// HEAD is GET without the body (RFC 9110); the
				// document does not repeat it.
				for _, m := range append([]string{m}, headOf(m)...) {
					if !slices.Contains(out, m) {
						out = append(out, m)
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// headOf is HEAD for GET, which answers HEAD too, and nothing otherwise.
func headOf(method string) []string {
	if method == http.MethodGet {
		return []string{http.MethodHead}
	}
	return nil
}

// matches reports whether path fits a path template, segment by segment.
func matches(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i, t := range ts {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if ps[i] == "" {
				return false
			}
		} else if t != ps[i] {
			return false
		}
	}
	return true
}

// gatewayNotFound reports whether a 404 is API Gateway's own, for a
// request that matched no route of the deployed HTTP API.
func gatewayNotFound(res *http.Response, body []byte) bool {
	var e struct{ Message string }
	return strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") &&
		json.Unmarshal(body, &e) == nil && e.Message == "Not Found" && !bytes.Contains(body, []byte(`"error"`))
}

// relative returns, for a URL under httpapi.BasePath, a function making a
// copy of a request with that URL relative to the base path (the router's
// paths are) and the body restored; false for a URL outside it.
func relative(u *url.URL) (func(*http.Request, []byte) *http.Request, bool) {
	path, ok := strings.CutPrefix(u.Path, httpapi.BasePath)
	if !ok || path == "" {
		return nil, false
	}
	raw, _ := strings.CutPrefix(u.RawPath, httpapi.BasePath)
	return func(req *http.Request, body []byte) *http.Request {
		r := req.Clone(context.Background())
		r.URL = &url.URL{Path: path, RawPath: raw, RawQuery: u.RawQuery}
		// The API ignores a leading byte-order mark, as RFC 8259 allows.
		body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
		if len(body) > 0 && r.Header.Get("Content-Type") == "" {
			r.Header.Set("Content-Type", "application/json")
		}
		return r
	}, true
}

// bearerPresent passes a request whose Authorization header holds a
// Bearer credential; whether the key is valid only the API can tell.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme, token, _ := strings.Cut(strings.TrimSpace(in.RequestValidationInput.Request.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return errors.New("no Bearer credential in Authorization")
	}
	return nil
}

// visit validates a JSON body against a schema of the document.
func visit(schema *openapi3.Schema, body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return schema.VisitJSON(v, openapi3.EnableJSONSchema2020())
}
