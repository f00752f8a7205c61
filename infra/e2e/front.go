package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/internal/httpapi"
)

// Invoker invokes a function by name with a JSON payload and returns the
// function's JSON result, as Lambda's Invoke API does. A function that
// fails returns its error object ({"errorMessage", "errorType"}) as the
// result, not as an error; the error is for failing to invoke at all.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// InvokerFunc adapts a function to Invoker.
type InvokerFunc func(ctx context.Context, function string, payload []byte) ([]byte, error)

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	return f(ctx, function, payload)
}

// Limits of the HTTP API that Front applies.
const (
	// IntegrationTimeout is how long API Gateway waits for a function.
	IntegrationTimeout = 30 * time.Second
	// MaxPayload is the largest request body an HTTP API accepts.
	MaxPayload = 10 << 20
)

// Front stands in for the deployed HTTP API: it routes each request by
// method and path to the function of its httpapi.Routes entry (the
// endpoint's name is the function's), invokes it with a payload 2.0 event
// and writes back the function's response. A request that matches no
// route — an unknown path, or another method on a known path, since the
// deployed API has one route per method and path — goes, as the stack's
// $default route sends it, to the docs function (DefaultRoute), which
// answers the API's JSON 404, or 405 with Allow. Front is safe for
// concurrent use.
type Front struct {
	// Invoker runs the functions.
	Invoker Invoker
	// Timeout bounds each invocation (503 beyond it); zero means
	// IntegrationTimeout.
	Timeout time.Duration
	// Logger receives a line for every failed integration; nil discards.
	Logger *slog.Logger
	// Now is the clock for the event's time; nil means time.Now.
	Now func() time.Time
}

// gatewayError writes one of API Gateway's own error responses.
func gatewayError(w http.ResponseWriter, requestID string, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Apigw-Requestid", requestID)
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"message":%q}`, message)
}

// ServeHTTP routes, invokes and answers one request.
func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	rt, params, ok := Match(r.Method, r.URL.EscapedPath())
	if !ok {
		rt, params = DefaultRoute, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		gatewayError(w, requestID, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > MaxPayload {
		gatewayError(w, requestID, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	payload, err := json.Marshal(NewEvent(r, body, rt, params, requestID, now()))
	if err != nil {
		f.logf(r.Context(), "encode event", requestID, rt, err)
		gatewayError(w, requestID, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = IntegrationTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	result, err := f.Invoker.Invoke(ctx, string(rt.Endpoint), payload)
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		f.logf(r.Context(), "integration timed out", requestID, rt, err)
		gatewayError(w, requestID, http.StatusServiceUnavailable, "Service Unavailable")
		return
	case err != nil:
		f.logf(r.Context(), "invocation failed", requestID, rt, err)
		gatewayError(w, requestID, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	res, err := ParseResponse(result)
	if err != nil {
		f.logf(r.Context(), "malformed function response", requestID, rt, err)
		gatewayError(w, requestID, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	out := []byte(res.Body)
	if res.IsBase64Encoded {
		if out, err = base64.StdEncoding.DecodeString(res.Body); err != nil {
			f.logf(r.Context(), "malformed function response body", requestID, rt, err)
			gatewayError(w, requestID, http.StatusInternalServerError, "Internal Server Error")
			return
		}
	}
	h := w.Header()
	for k, v := range res.Headers {
		h.Set(k, v)
	}
	for k, vs := range res.MultiValueHeaders {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range res.Cookies {
		h.Add("Set-Cookie", c)
	}
	h.Set("Apigw-Requestid", requestID)
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(out) // the client may have gone
}

func (f *Front) logf(ctx context.Context, msg, requestID string, rt httpapi.Route, err error) {
	if f.Logger == nil {
		return
	}
	f.Logger.ErrorContext(ctx, msg, slog.String("request_id", requestID),
		slog.String("function", string(rt.Endpoint)), slog.String("route", keyOf(rt, rt.Method)), slog.String("error", err.Error()))
}

// ErrFunction is the error ParseResponse returns for a function that
// failed ({"errorMessage", "errorType"}), which API Gateway answers 500.
var ErrFunction = errors.New("the function failed")

// ParseResponse reads a function's result as API Gateway reads a payload
// 2.0 response: an object with statusCode is the response; any other
// valid JSON is a 200 response with that JSON as its body; a function
// error (ErrFunction) and anything else fail.
func ParseResponse(result []byte) (events.APIGatewayV2HTTPResponse, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(result, &probe); err != nil {
		if json.Valid(result) {
			return inferred(result), nil
		}
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("function result is not JSON: %.200q", result)
	}
	if _, ok := probe["statusCode"]; !ok {
		_, hasMessage := probe["errorMessage"]
		_, hasType := probe["errorType"]
		if hasMessage && hasType {
			return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("%w: %.500s", ErrFunction, result)
		}
		return inferred(result), nil
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(result, &res); err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("function response: %w", err)
	}
	if res.StatusCode < 100 || res.StatusCode > 599 {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("function response has status %d", res.StatusCode)
	}
	return res, nil
}

// inferred is the response API Gateway makes of JSON without statusCode.
func inferred(result []byte) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(result),
	}
}

// DefaultRoute is the route Front invokes for a request that matches no
// other: API Gateway's $default route, to the docs function, as the stack
// defines it. Its Method and Path are empty: its route key is $default.
var DefaultRoute = httpapi.Route{Endpoint: httpapi.Docs}

// keyOf is the route key of rt as API Gateway names it, for a request
// with method.
func keyOf(rt httpapi.Route, method string) string {
	if rt.Path == "" {
		return "$default"
	}
	return method + " " + httpapi.BasePath + rt.Path
}

// Match finds the route of a request as the deployed HTTP API does: the
// route answering the method (HEAD beside GET) whose path, BasePath included, matches the
// raw (escaped) path segment by segment, a {name} segment matching any
// non-empty segment. Where several match, the one with the most literal
// segments wins. params holds the {name} segments, unescaped.
func Match(method, rawPath string) (rt httpapi.Route, params map[string]string, ok bool) {
	segs := strings.Split(rawPath, "/")
	best := -1
	for _, cand := range httpapi.Routes {
		if !slices.Contains(cand.Methods(), method) {
			continue
		}
		tmpl := strings.Split(httpapi.BasePath+cand.Path, "/")
		if len(tmpl) != len(segs) {
			continue
		}
		literals := 0
		var got map[string]string
		matched := true
		for i, t := range tmpl {
			if name, isParam := strings.CutPrefix(t, "{"); isParam && strings.HasSuffix(name, "}") {
				if segs[i] == "" {
					matched = false
					break
				}
				if got == nil {
					got = map[string]string{}
				}
				v, err := url.PathUnescape(segs[i])
				if err != nil {
					v = segs[i]
				}
				got[strings.TrimSuffix(name, "}")] = v
				continue
			}
			if t != segs[i] {
				matched = false
				break
			}
			literals++
		}
		if matched && literals > best {
			rt, params, ok, best = cand, got, true, literals
		}
	}
	return rt, params, ok
}

// NewEvent is the payload 2.0 event API Gateway makes of a request for
// route rt (DefaultRoute for $default): header names lower-cased and repeated values joined with
// commas, cookies apart, query parameters decoded (repeats joined with
// commas), the body base64-encoded unless it is UTF-8, and the request
// context of the $default stage.
func NewEvent(r *http.Request, body []byte, rt httpapi.Route, params map[string]string, requestID string, now time.Time) events.APIGatewayV2HTTPRequest {
	routeKey := keyOf(rt, r.Method)
	rawPath := r.URL.EscapedPath()
	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		lower := strings.ToLower(name)
		if lower == "cookie" {
			for _, v := range values {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lower] = strings.Join(values, ",")
	}
	headers["host"] = r.Host
	if len(body) > 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	}
	if prior := headers["x-forwarded-for"]; prior != "" {
		headers["x-forwarded-for"] = prior + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-proto"] = "http"
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		headers["x-forwarded-port"] = port
	} else {
		headers["x-forwarded-port"] = "80"
	}
	headers["x-amzn-trace-id"] = traceID(now)

	var query map[string]string
	if r.URL.RawQuery != "" {
		if values, err := url.ParseQuery(r.URL.RawQuery); err == nil && len(values) > 0 {
			query = make(map[string]string, len(values))
			for k, vs := range values {
				query[k] = strings.Join(vs, ",")
			}
		}
	}
	domain := r.Host
	if host, _, err := net.SplitHostPort(domain); err == nil {
		domain = host
	}
	prefix, _, _ := strings.Cut(domain, ".")

	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               rawPath,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    AccountID,
			Stage:        "$default",
			RequestID:    requestID,
			APIID:        APIID,
			DomainName:   domain,
			DomainPrefix: prefix,
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      rawPath,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

// The account and API ids the emulated events carry.
const (
	AccountID = "000000000000"
	APIID     = "helpdeske2e"
)

// newRequestID returns an id of the shape API Gateway gives HTTP API
// requests (15 base64 characters and "=").
func newRequestID() string {
	b := make([]byte, 11)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// traceID returns an X-Ray trace header value as API Gateway adds it.
func traceID(now time.Time) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("Root=1-%08x-%s", now.Unix(), hex.EncodeToString(b))
}

// invokeJSON marshals v, invokes function with it and decodes a
// successful result into out (when not nil). A function error is
// returned as ErrFunction.
func invokeJSON(ctx context.Context, inv Invoker, function string, v, out any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", function, err)
	}
	result, err := inv.Invoke(ctx, function, payload)
	if err != nil {
		return err
	}
	var failure struct {
		Message *string `json:"errorMessage"`
		Type    string  `json:"errorType"`
	}
	if json.Unmarshal(result, &failure) == nil && failure.Message != nil {
		return fmt.Errorf("%w: %s: %s (%s)", ErrFunction, function, *failure.Message, failure.Type)
	}
	if out == nil || bytes.Equal(bytes.TrimSpace(result), []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(result, out); err != nil {
		return fmt.Errorf("decode %s result %.200q: %w", function, result, err)
	}
	return nil
}
