package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/config"
	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
	"github.com/acme/helpdesk/internal/openapitest"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// env is an API served over real HTTP on a fresh table, with one key per
// permission.
type env struct {
	tb    testing.TB
	url   string
	store *dynamo.Store
	table string
	// clean is a store on the same table through a client without faults,
	// to look at what the API wrote.
	clean *dynamo.Store
	keys  map[helpdesk.Permission]string
	logs  *bytes.Buffer
	// files is the bucket of the API's uploads and attachments.
	files *dynamotest.Files
	// client holds every exchange of the whole API to the OpenAPI
	// document; an API of only some endpoints answers 404 and 405 for
	// operations the document has, so its client checks nothing.
	client *http.Client
}

func newAPI(tb testing.TB, endpoints ...httpapi.Endpoint) (*env, http.Handler) {
	tb.Helper()
	return newAPIOn(tb, dynamotest.Client(tb), endpoints...)
}

// newAPIOn is newAPI with the API's DynamoDB client db.
func newAPIOn(tb testing.TB, db dynamo.API, endpoints ...httpapi.Endpoint) (*env, http.Handler) {
	tb.Helper()
	table := dynamotest.NewTable(tb, dynamo.Table.CreateTableInput)
	logs := &bytes.Buffer{}
	files := dynamotest.NewFiles(tb)
	sys := newSystemFiles(tb, db, table, true, slog.New(slog.NewJSONHandler(logs, nil)), files.Store)
	store := sys.Store
	codec, err := cursor.New(cursorKey)
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{tb: tb, store: store, table: table, clean: dynamo.New(dynamotest.Client(tb), table, codec), keys: map[helpdesk.Permission]string{}, logs: logs, files: files, client: http.DefaultClient}
	if len(endpoints) == 0 {
		e.client = openapitest.Client(tb)
	}
	for _, perm := range helpdesk.Permissions {
		e.keys[perm] = dynamotest.AddKey(tb, e.clean, perm)
	}
	h := serve.Handler(sys, endpoints...)
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	e.url = srv.URL
	return e, h
}

// cursorKey seals the test APIs' cursors.
var cursorKey = bytes.Repeat([]byte{7}, cursor.KeySize)

// newSystem assembles the system as every process does (app.New) on db
// and table, with the local, relaxed SSRF guard when allowPrivate is set.
func newSystem(tb testing.TB, db dynamo.API, table string, allowPrivate bool, logger *slog.Logger) *app.System {
	tb.Helper()
	return newSystemFiles(tb, db, table, allowPrivate, logger, nil)
}

// newSystemFiles is newSystem with the file store files (none when nil).
func newSystemFiles(tb testing.TB, db dynamo.API, table string, allowPrivate bool, logger *slog.Logger, files helpdesk.FileStore) *app.System {
	tb.Helper()
	sys, err := app.New(config.Config{Table: table, CursorKey: cursorKey, WebhookAllowPrivate: allowPrivate}, app.Clients{DynamoDB: db, Files: files}, logger)
	if err != nil {
		tb.Fatal(err)
	}
	return sys
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a request with the key of perm ("" for none); body is sent as
// is when it is a string, as JSON otherwise.
func (e *env) do(method, path string, perm helpdesk.Permission, body any) response {
	e.tb.Helper()
	return e.doKey(method, path, e.keys[perm], body)
}

func (e *env) doKey(method, path, key string, body any) response {
	e.tb.Helper()
	return e.doHeader(method, path, key, nil, body)
}

// doHeader is doKey with extra request headers.
func (e *env) doHeader(method, path, key string, header http.Header, body any) response {
	e.tb.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.tb.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	url := path
	if strings.HasPrefix(path, "/") {
		url = e.url + path
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		e.tb.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.tb.Fatal(err)
	}
	defer res.Body.Close()
	out := response{status: res.StatusCode, header: res.Header}
	if out.raw, err = io.ReadAll(res.Body); err != nil {
		e.tb.Fatal(err)
	}
	if len(out.raw) > 0 {
		if err := json.Unmarshal(out.raw, &out.body); err != nil {
			e.tb.Fatalf("%s %s: body is not a JSON object: %q", method, path, out.raw)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			e.tb.Fatalf("%s %s: Content-Type %q", method, path, ct)
		}
	}
	return out
}

// want fails unless the response has the status and, for errors, the code
// and exactly the named detail fields.
func (r response) want(tb testing.TB, status int, code helpdesk.Code, fields ...string) {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if code == "" {
		return
	}
	e, _ := r.body["error"].(map[string]any)
	if e == nil || e["code"] != string(code) || e["message"] == "" {
		tb.Fatalf("error body %s, want code %s", r.raw, code)
	}
	var got []string
	details, _ := e["details"].([]any)
	for _, d := range details {
		got = append(got, d.(map[string]any)["field"].(string))
	}
	if strings.Join(got, ",") != strings.Join(fields, ",") {
		tb.Fatalf("error fields %v, want %v: %s", got, fields, r.raw)
	}
}

// ticket returns the "ticket" object of a response.
func (r response) ticket(tb testing.TB) map[string]any {
	tb.Helper()
	t, ok := r.body["ticket"].(map[string]any)
	if !ok {
		tb.Fatalf("no ticket in %s", r.raw)
	}
	return t
}

func (e *env) createTicket(fields map[string]any) map[string]any {
	e.tb.Helper()
	res := e.do("POST", "/helpdesk/api/v1/tickets", helpdesk.PermWrite, map[string]any{"ticket": fields})
	res.want(e.tb, http.StatusCreated, "")
	return res.ticket(e.tb)
}
