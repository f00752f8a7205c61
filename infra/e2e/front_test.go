package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/acme/helpdesk/internal/httpapi"
)

func TestMatchEveryRoute(t *testing.T) {
	for _, rt := range httpapi.Routes {
		path := httpapi.BasePath + rt.Path
		want := map[string]string{}
		for _, name := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(rt.Path, -1) {
			want[name[1]] = "v_" + name[1]
			path = strings.Replace(path, name[0], "v_"+name[1], 1)
		}
		got, params, ok := Match(rt.Method, path)
		if !ok || got.Method != rt.Method || got.Path != rt.Path || got.Endpoint != rt.Endpoint {
			t.Errorf("Match(%s %s) = %s %s (%s), %v; want %s %s", rt.Method, path, got.Method, got.Path, got.Endpoint, ok, rt.Method, rt.Path)
			continue
		}
		if len(want) == 0 {
			want = nil
		}
		if fmt.Sprint(params) != fmt.Sprint(want) {
			t.Errorf("Match(%s %s) params %v, want %v", rt.Method, path, params, want)
		}
	}
}

func TestMatchUnescapesParams(t *testing.T) {
	_, params, ok := Match("GET", httpapi.BasePath+"/tickets/tkt_a%2Fb%20c")
	if !ok || params["id"] != "tkt_a/b c" {
		t.Fatalf("params %v, %v", params, ok)
	}
}

// TestMatchHEAD: the stack routes HEAD beside every GET to the same
// function; nothing else answers HEAD.
func TestMatchHEAD(t *testing.T) {
	rt, params, ok := Match("HEAD", httpapi.BasePath+"/tickets/tkt_a")
	if !ok || rt.Endpoint != httpapi.GetTicket || params["id"] != "tkt_a" {
		t.Fatalf("Match(HEAD /tickets/tkt_a) = %s %s (%s), %v, %v", rt.Method, rt.Path, rt.Endpoint, params, ok)
	}
}

func TestMatchRejects(t *testing.T) {
	b := httpapi.BasePath
	for _, c := range []struct{ method, path string }{
		{"GET", "/"},
		{"GET", b},
		{"GET", b + "/"},
		{"GET", b + "/ticket"},
		{"GET", b + "/tickets/"},                     // {id} needs a non-empty segment
		{"GET", b + "//tickets"},                     // no empty segments
		{"GET", b + "/tickets/x/y"},                  // one segment per parameter
		{"GET", b + "/Tickets"},                      // paths are case-sensitive
		{"GET", "/v2" + b + "/tickets"},              // outside the base path
		{"PATCH", b + "/tickets/x"},                  // no route for the method
		{"POST", b + "/tickets/x"},                   // another method of the path
		{"DELETE", b + "/tickets"},                   // likewise
		{"get", b + "/tickets"},                      // methods are case-sensitive
		{"GET", b + "/webhooks/x/replay"},            // a route's tail alone
		{"HEAD", b + "/tickets/x/comments/y/redact"}, // HEAD only beside GET
		{"OPTIONS", b + "/custom_fields/x"},          // no CORS preflight route
	} {
		if rt, _, ok := Match(c.method, c.path); ok {
			t.Errorf("Match(%s %s) = %s %s, want no route", c.method, c.path, rt.Method, rt.Path)
		}
	}
}

// fakeFunctions records invocations and answers them with respond.
type fakeFunctions struct {
	mu      sync.Mutex
	calls   []string
	events  []events.APIGatewayV2HTTPRequest
	respond func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) ([]byte, error)
}

func (f *fakeFunctions) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.calls = append(f.calls, function)
	f.events = append(f.events, ev)
	f.mu.Unlock()
	return f.respond(ctx, ev)
}

func (f *fakeFunctions) last(t *testing.T) (string, events.APIGatewayV2HTTPRequest) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("no function was invoked")
	}
	return f.calls[len(f.calls)-1], f.events[len(f.events)-1]
}

func (f *fakeFunctions) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func respondWith(res events.APIGatewayV2HTTPResponse) func(context.Context, events.APIGatewayV2HTTPRequest) ([]byte, error) {
	return func(context.Context, events.APIGatewayV2HTTPRequest) ([]byte, error) { return json.Marshal(res) }
}

func respondRaw(raw string) func(context.Context, events.APIGatewayV2HTTPRequest) ([]byte, error) {
	return func(context.Context, events.APIGatewayV2HTTPRequest) ([]byte, error) { return []byte(raw), nil }
}

func newFront(t *testing.T, fake *fakeFunctions, timeout time.Duration) *httptest.Server {
	t.Helper()
	at := time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC)
	srv := httptest.NewServer(&Front{Invoker: fake, Timeout: timeout, Now: func() time.Time { return at }})
	t.Cleanup(srv.Close)
	return srv
}

func send(t *testing.T, method, url string, body []byte, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, out
}

func TestFrontEvent(t *testing.T) {
	fake := &fakeFunctions{respond: respondWith(events.APIGatewayV2HTTPResponse{StatusCode: 204})}
	srv := newFront(t, fake, 0)
	header := http.Header{
		"Authorization": {"Bearer hd_key"},
		"X-Custom":      {"one", "two"},
		"Cookie":        {"a=1; b=2"},
		"User-Agent":    {"e2e-test/1.0"},
	}
	body := []byte{0xff, 0x00, 'x'}
	res, _ := send(t, "PUT", srv.URL+httpapi.BasePath+"/tickets/tkt_abc?tag=a&tag=b&status=open", body, header)
	fn, ev := fake.last(t)
	if fn != "update" {
		t.Fatalf("invoked %q, want update", fn)
	}
	route := "PUT " + httpapi.BasePath + "/tickets/{id}"
	path := httpapi.BasePath + "/tickets/tkt_abc"
	rc := ev.RequestContext
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", ev.Version, "2.0"},
		{"routeKey", ev.RouteKey, route},
		{"rawPath", ev.RawPath, path},
		{"rawQueryString", ev.RawQueryString, "tag=a&tag=b&status=open"},
		{"queryStringParameters", fmt.Sprint(ev.QueryStringParameters), "map[status:open tag:a,b]"},
		{"pathParameters", fmt.Sprint(ev.PathParameters), "map[id:tkt_abc]"},
		{"cookies", fmt.Sprint(ev.Cookies), "[a=1 b=2]"},
		{"headers.authorization", ev.Headers["authorization"], "Bearer hd_key"},
		{"headers.x-custom", ev.Headers["x-custom"], "one,two"},
		{"headers.user-agent", ev.Headers["user-agent"], "e2e-test/1.0"},
		{"headers.host", ev.Headers["host"], strings.TrimPrefix(srv.URL, "http://")},
		{"headers.content-length", ev.Headers["content-length"], "3"},
		{"headers.x-forwarded-for", ev.Headers["x-forwarded-for"], "127.0.0.1"},
		{"headers.x-forwarded-proto", ev.Headers["x-forwarded-proto"], "http"},
		{"no cookie header", ev.Headers["cookie"], ""},
		{"body", ev.Body, base64.StdEncoding.EncodeToString(body)},
		{"isBase64Encoded", ev.IsBase64Encoded, true},
		{"requestContext.routeKey", rc.RouteKey, route},
		{"requestContext.stage", rc.Stage, "$default"},
		{"requestContext.accountId", rc.AccountID, AccountID},
		{"requestContext.apiId", rc.APIID, APIID},
		{"requestContext.domainName", rc.DomainName, "127.0.0.1"},
		{"requestContext.domainPrefix", rc.DomainPrefix, "127"},
		{"requestContext.http.method", rc.HTTP.Method, "PUT"},
		{"requestContext.http.path", rc.HTTP.Path, path},
		{"requestContext.http.protocol", rc.HTTP.Protocol, "HTTP/1.1"},
		{"requestContext.http.sourceIp", rc.HTTP.SourceIP, "127.0.0.1"},
		{"requestContext.http.userAgent", rc.HTTP.UserAgent, "e2e-test/1.0"},
		{"requestContext.time", rc.Time, "25/Nov/2026:10:00:00 +0000"},
		{"requestContext.timeEpoch", rc.TimeEpoch, int64(1795600800123)},
		{"requestContext.requestId = apigw-requestid", rc.RequestID, res.Header.Get("Apigw-Requestid")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	for name := range ev.Headers {
		if name != strings.ToLower(name) {
			t.Errorf("header name %q is not lower-case", name)
		}
	}
	if !regexp.MustCompile(`^[A-Za-z0-9+/]{15}=$`).MatchString(rc.RequestID) {
		t.Errorf("requestId %q has not the shape of API Gateway's", rc.RequestID)
	}
	if !strings.HasPrefix(ev.Headers["x-amzn-trace-id"], "Root=1-") {
		t.Errorf("x-amzn-trace-id %q", ev.Headers["x-amzn-trace-id"])
	}

	// A UTF-8 body travels as it is; no body and no query leave those out.
	send(t, "POST", srv.URL+httpapi.BasePath+"/tickets", []byte(`{"ticket":{"subject":"é"}}`), nil)
	if fn, ev = fake.last(t); fn != "create" || ev.Body != `{"ticket":{"subject":"é"}}` || ev.IsBase64Encoded || ev.PathParameters != nil {
		t.Errorf("create: %s, body %q base64 %v, params %v", fn, ev.Body, ev.IsBase64Encoded, ev.PathParameters)
	}
	send(t, "GET", srv.URL+httpapi.BasePath+"/tickets", nil, nil)
	if fn, ev = fake.last(t); fn != "list" || ev.Body != "" || ev.IsBase64Encoded || ev.RawQueryString != "" || ev.QueryStringParameters != nil || ev.Cookies != nil {
		t.Errorf("list: %s %+v", fn, ev)
	}
}

// TestFrontEventThroughAdapter hands the event to the adapter the
// functions run (httpadapter.NewV2) and checks the request the API's
// handler sees.
func TestFrontEventThroughAdapter(t *testing.T) {
	var seen *http.Request
	var seenBody []byte
	adapter := httpadapter.NewV2(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		seenBody, _ = io.ReadAll(r.Body)
		w.Header().Add("X-Many", "1")
		w.Header().Add("X-Many", "2")
		http.SetCookie(w, &http.Cookie{Name: "s", Value: "v"})
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte{0xde, 0xad, 0xbe, 0xef})
	}))
	fake := &fakeFunctions{respond: func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) ([]byte, error) {
		res, err := adapter.ProxyWithContext(ctx, ev)
		if err != nil {
			return nil, err
		}
		return json.Marshal(res)
	}}
	srv := newFront(t, fake, 0)
	body := []byte{0x01, 0xff, 0x7f}
	res, out := send(t, "POST", srv.URL+httpapi.BasePath+"/webhooks/whk_1/deliveries/evt_2/replay?x=%20y", body,
		http.Header{"Authorization": {"Bearer k"}, "Cookie": {"c=3"}})
	if seen == nil {
		t.Fatal("the handler was not called")
	}
	if seen.Method != "POST" || seen.URL.Path != httpapi.BasePath+"/webhooks/whk_1/deliveries/evt_2/replay" || seen.URL.Query().Get("x") != " y" {
		t.Errorf("handler saw %s %s", seen.Method, seen.URL)
	}
	if seen.Header.Get("Authorization") != "Bearer k" || seen.Header.Get("Cookie") != "c=3" || !bytes.Equal(seenBody, body) {
		t.Errorf("handler saw headers %v, body %x", seen.Header, seenBody)
	}
	if res.StatusCode != http.StatusAccepted || !bytes.Equal(out, []byte{0xde, 0xad, 0xbe, 0xef}) {
		t.Errorf("client got %d %x", res.StatusCode, out)
	}
	if got := res.Header.Values("X-Many"); strings.Join(got, " ") != "1,2" {
		t.Errorf("X-Many %q (the adapter joins values with commas)", got)
	}
	if c := res.Cookies(); len(c) != 1 || c[0].Name != "s" || c[0].Value != "v" {
		t.Errorf("cookies %v", c)
	}
}

func TestFrontResponse(t *testing.T) {
	fake := &fakeFunctions{respond: respondWith(events.APIGatewayV2HTTPResponse{
		StatusCode:        201,
		Headers:           map[string]string{"Content-Type": "application/json", "Location": "/x", "X-Multi": "overridden"},
		MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
		Cookies:           []string{"a=1; Path=/", "b=2"},
		Body:              base64.StdEncoding.EncodeToString([]byte(`{"ok":true}`)),
		IsBase64Encoded:   true,
	})}
	srv := newFront(t, fake, 0)
	res, out := send(t, "POST", srv.URL+httpapi.BasePath+"/tickets", []byte(`{}`), nil)
	if res.StatusCode != 201 || string(out) != `{"ok":true}` || res.Header.Get("Location") != "/x" || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%d %v %s", res.StatusCode, res.Header, out)
	}
	if got := res.Header.Values("X-Multi"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("X-Multi %v", got)
	}
	if got := res.Header.Values("Set-Cookie"); !slices.Equal(got, []string{"a=1; Path=/", "b=2"}) {
		t.Errorf("Set-Cookie %v", got)
	}
	if res.Header.Get("Apigw-Requestid") == "" {
		t.Error("no apigw-requestid header")
	}
}

// TestFrontDefaultRoute: what matches no route — an unknown or unclean
// path, another method on a known path — goes to the docs function with
// the $default route key, as the stack's $default route sends it.
func TestFrontDefaultRoute(t *testing.T) {
	for _, c := range []struct{ method, path string }{
		{"GET", "/nowhere"},
		{"PATCH", httpapi.BasePath + "/tickets/x"},
		{"GET", httpapi.BasePath + "//tickets"},
		{"OPTIONS", httpapi.BasePath + "/tickets"},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			fake := &fakeFunctions{respond: respondWith(events.APIGatewayV2HTTPResponse{StatusCode: 404, Body: `{"error":{}}`})}
			srv := newFront(t, fake, 0)
			res, out := send(t, c.method, srv.URL+c.path, nil, nil)
			fn, ev := fake.last(t)
			if fn != string(httpapi.Docs) || ev.RouteKey != "$default" || ev.RequestContext.RouteKey != "$default" ||
				ev.RawPath != c.path || ev.RequestContext.HTTP.Method != c.method || ev.PathParameters != nil {
				t.Errorf("invoked %s with %s %s %s %v", fn, ev.RouteKey, ev.RequestContext.HTTP.Method, ev.RawPath, ev.PathParameters)
			}
			if res.StatusCode != 404 || string(out) != `{"error":{}}` {
				t.Errorf("%d %s", res.StatusCode, out)
			}
		})
	}
}

func TestFrontGatewayAnswers(t *testing.T) {
	const internal = `{"message":"Internal Server Error"}`
	block := func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	cases := []struct {
		name     string
		method   string
		path     string
		body     []byte
		respond  func(context.Context, events.APIGatewayV2HTTPRequest) ([]byte, error)
		status   int
		want     string
		invoked  bool
		jsonBody bool
	}{
		{"FunctionError", "GET", httpapi.BasePath + "/tickets", nil, respondRaw(`{"errorMessage":"boom","errorType":"wrapError"}`), 500, internal, true, true},
		{"NotJSON", "GET", httpapi.BasePath + "/tickets", nil, respondRaw(`not json`), 500, internal, true, true},
		{"BadStatus", "GET", httpapi.BasePath + "/tickets", nil, respondRaw(`{"statusCode":0}`), 500, internal, true, true},
		{"BadBase64", "GET", httpapi.BasePath + "/tickets", nil, respondRaw(`{"statusCode":200,"body":"%%%","isBase64Encoded":true}`), 500, internal, true, true},
		{"InvokeFailed", "GET", httpapi.BasePath + "/tickets", nil, func(context.Context, events.APIGatewayV2HTTPRequest) ([]byte, error) {
			return nil, errors.New("connection refused")
		}, 500, internal, true, true},
		{"Timeout", "GET", httpapi.BasePath + "/tickets", nil, block, 503, `{"message":"Service Unavailable"}`, true, true},
		{"StatuslessJSON", "GET", httpapi.BasePath + "/tickets", nil, respondRaw(`{"tickets":[]}`), 200, `{"tickets":[]}`, true, true},
		{"TooLarge", "POST", httpapi.BasePath + "/tickets", make([]byte, MaxPayload+1), respondRaw(`{}`), 413, `{"message":"Request Entity Too Large"}`, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := &fakeFunctions{respond: c.respond}
			srv := newFront(t, fake, 100*time.Millisecond)
			res, out := send(t, c.method, srv.URL+c.path, c.body, nil)
			if res.StatusCode != c.status || string(out) != c.want {
				t.Errorf("%d %s, want %d %s", res.StatusCode, out, c.status, c.want)
			}
			if c.jsonBody && res.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
			}
			if res.Header.Get("Apigw-Requestid") == "" {
				t.Error("no apigw-requestid header")
			}
			if invoked := fake.count() > 0; invoked != c.invoked {
				t.Errorf("invoked %v, want %v", invoked, c.invoked)
			}
		})
	}
}

func TestInvokeJSON(t *testing.T) {
	inv := InvokerFunc(func(_ context.Context, fn string, payload []byte) ([]byte, error) {
		switch fn {
		case "fails":
			return []byte(`{"errorMessage":"query due deliveries: refused","errorType":"wrapError"}`), nil
		case "null":
			return []byte("null"), nil
		}
		return []byte(`{"batchItemFailures":[{"itemIdentifier":"42"}]}`), nil
	})
	var resp events.DynamoDBEventResponse
	if err := invokeJSON(t.Context(), inv, "dispatch", events.DynamoDBEvent{}, &resp); err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "42" {
		t.Fatalf("%v %+v", err, resp)
	}
	if err := invokeJSON(t.Context(), inv, "fails", struct{}{}, nil); !errors.Is(err, ErrFunction) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("function error: %v", err)
	}
	if err := invokeJSON(t.Context(), inv, "null", struct{}{}, &resp); err != nil {
		t.Fatalf("null result: %v", err)
	}
}

func TestProcessLogCountsInitReports(t *testing.T) {
	l := &processLog{}
	text := "25 Nov 2026 11:46:44,566 [INFO] (rapid) INIT START(type: on-demand, phase: init)\n" +
		"25 Nov 2026 11:46:44,582 [INFO] (rapid) INIT REPORT(durationMs: 16.921000)\n" +
		"REPORT RequestId: x\tInit Duration: 0.37 ms\n" +
		"25 Nov 2026 11:47:44,582 [INFO] (rapid) INIT REPORT(durationMs: 12.0)\n" +
		"unfinished INIT REPORT"
	for i := 0; i < len(text); i += 7 { // split lines across writes
		_, _ = l.Write([]byte(text[i:min(i+7, len(text))]))
	}
	if n := l.InitReports(); n != 2 {
		t.Fatalf("%d INIT REPORT lines, want 2 (an unfinished line does not count yet)", n)
	}
	_, _ = l.Write([]byte("\n"))
	if n := l.InitReports(); n != 3 {
		t.Fatalf("%d INIT REPORT lines, want 3", n)
	}
	if tail := l.Tail(10); tail != "[…]IT REPORT\n" {
		t.Fatalf("Tail(10) = %q", tail)
	}
}

func TestFunctionEnv(t *testing.T) {
	has := func(env []string, kv string) bool { return slices.Contains(env, kv) }
	list := functionEnv("list", "http://127.0.0.1:8000", "a2V5", "")
	if !has(list, "HELPDESK_CURSOR_KEY=a2V5") || !has(list, "AWS_ENDPOINT_URL=http://127.0.0.1:8000") || !has(list, "HELPDESK_TABLE="+TableName) ||
		!has(list, "HELPDESK_LOG_LEVEL=info") || slices.ContainsFunc(list, func(kv string) bool { return strings.HasPrefix(kv, "HELPDESK_WEBHOOK_ALLOW_PRIVATE=") }) {
		t.Errorf("list env %v", list)
	}
	if env := functionEnv("webhooks", "http://x", "k", "debug"); !has(env, "HELPDESK_WEBHOOK_ALLOW_PRIVATE=1") || !has(env, "HELPDESK_CURSOR_KEY=k") || !has(env, "HELPDESK_LOG_LEVEL=debug") {
		t.Errorf("webhooks env %v", env)
	}
	if env := functionEnv("comments", "http://x", "k", ""); !has(env, "HELPDESK_CURSOR_KEY=k") || !has(env, "HELPDESK_TABLE="+TableName) {
		t.Errorf("comments env %v: the conversations page with cursors", env)
	}
	for _, fn := range []string{Dispatch, Retry} {
		env := functionEnv(fn, "http://x", "k", "debug")
		if !has(env, "HELPDESK_WEBHOOK_ALLOW_PRIVATE=1") || slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "HELPDESK_CURSOR_KEY=") }) {
			t.Errorf("%s env %v", fn, env)
		}
	}
	if env := functionEnv(Retry, "http://x", "k", ""); !has(env, "AWS_LAMBDA_FUNCTION_TIMEOUT=60") || !has(env, "AWS_LAMBDA_FUNCTION_NAME=helpdesk-e2e-retry") {
		t.Errorf("retry env %v", env)
	}
}

func TestFunctionsMatchFolders(t *testing.T) {
	want := slices.Clone(Functions)
	slices.Sort(want)
	var got []string
	mains, err := filepath.Glob("../../functions/*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mains {
		got = append(got, filepath.Base(filepath.Dir(m)))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("functions/ holds %v, Functions lists %v", got, want)
	}
}

// TestPagingFunctionsGetTheCursorKey holds functionEnv to the functions'
// mains: a function that pages (its main calls serve.PagingAPI) fails to
// start without a cursor key, and no other function is given one.
func TestPagingFunctionsGetTheCursorKey(t *testing.T) {
	mains, err := filepath.Glob("../../functions/*/main.go")
	if err != nil || len(mains) == 0 {
		t.Fatalf("no mains: %v", err)
	}
	for _, m := range mains {
		src, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		fn := filepath.Base(filepath.Dir(m))
		pages := bytes.Contains(src, []byte("serve.PagingAPI(")) || bytes.Contains(src, []byte("serve.FilesAPI("))
		hasKey := slices.Contains(functionEnv(fn, "http://x", "k", ""), "HELPDESK_CURSOR_KEY=k")
		if pages != hasKey {
			t.Errorf("function %s: calls serve.PagingAPI or FilesAPI %v, gets HELPDESK_CURSOR_KEY %v", fn, pages, hasKey)
		}
		// A function that opens the files bucket fails to start without
		// its name; no other function is given it.
		files := bytes.Contains(src, []byte("filestore.Open"))
		hasBucket := slices.Contains(functionEnv(fn, "http://x", "k", ""), "HELPDESK_FILES_BUCKET="+FilesBucket)
		if files != hasBucket {
			t.Errorf("function %s: opens the files bucket %v, gets HELPDESK_FILES_BUCKET %v", fn, files, hasBucket)
		}
	}
}

// TestStreamFilter checks the emulated filter of the event source mapping:
// the records of tickets and of their comments reach dispatch, which
// produces the comment events and purges a deleted ticket's comments; the
// records of other items do not.
func TestStreamFilter(t *testing.T) {
	record := func(pk, sk string) events.DynamoDBEventRecord {
		return events.DynamoDBEventRecord{EventID: pk + "/" + sk, EventName: "INSERT", Change: events.DynamoDBStreamRecord{
			Keys: map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute(pk), "sk": events.NewStringAttribute(sk)},
		}}
	}
	const arn = "arn:aws:dynamodb:us-east-1:000000000000:table/helpdesk-e2e/stream/2026-11-25T10:00:00.000"
	ticket := "TICKET#tkt_" + strings.Repeat("a", 24)
	batch := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		record(ticket, "TICKET"),
		record("KEY#key_a", "KEY"),
		record(ticket, "COMMENT#cmt_"+strings.Repeat("0", 26)),
		record("WEBHOOK#whk_a", "WEBHOOK"),
		record("ticket#tkt_a", "TICKET"), // prefixes are case-sensitive
	}}
	kept := streamFilter(arn, batch)
	var got []string
	for _, rec := range kept {
		if rec.EventSourceArn != arn {
			t.Errorf("record %s kept without the stream's ARN: %q", rec.EventID, rec.EventSourceArn)
		}
		got = append(got, rec.EventID)
	}
	want := []string{ticket + "/TICKET", ticket + "/COMMENT#cmt_" + strings.Repeat("0", 26)}
	if !slices.Equal(got, want) {
		t.Fatalf("kept %q, want %q", got, want)
	}
	if batch.Records[0].EventSourceArn != "" {
		t.Fatal("streamFilter changed the batch it was given")
	}
	if streamFilter(arn, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{record("KEY#key_a", "KEY")}}) != nil {
		t.Fatal("a batch with nothing for dispatch kept records")
	}
}
