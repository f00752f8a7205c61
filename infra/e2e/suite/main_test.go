package suite_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/helpdesk/infra/e2e"
	"github.com/acme/helpdesk/internal/openapitest"
)

// basePath prefixes every route of the API.
const basePath = "/helpdesk/api/v1"

// target is what the suite runs against.
var target struct {
	api   string // base URL, basePath included
	keys  e2e.Keys
	local *e2e.Stack // nil against a deployed stack
}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	flag.Parse()
	if api := os.Getenv("HELPDESK_API_URL"); api != "" {
		target.api = strings.TrimSuffix(api, "/")
		if !strings.HasSuffix(target.api, basePath) {
			target.api += basePath
		}
		target.keys = e2e.Keys{Read: os.Getenv("HELPDESK_E2E_READ_KEY"), Write: os.Getenv("HELPDESK_E2E_WRITE_KEY"), Admin: os.Getenv("HELPDESK_E2E_ADMIN_KEY")}
		if target.keys.Read == "" || target.keys.Write == "" || target.keys.Admin == "" {
			fmt.Fprintln(os.Stderr, "HELPDESK_API_URL is set: set HELPDESK_E2E_READ_KEY, HELPDESK_E2E_WRITE_KEY and HELPDESK_E2E_ADMIN_KEY too (go run ./infra/cmd/keys create … makes them)")
			return 2
		}
		return m.Run()
	}
	bin := os.Getenv("HELPDESK_E2E_BIN")
	if bin == "" {
		return m.Run() // every test skips: see needTarget
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	stack, err := e2e.Start(ctx, e2e.Options{BinDir: bin, RIE: os.Getenv("HELPDESK_E2E_RIE")})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the e2e stack:", err)
		return 1
	}
	target.api, target.keys, target.local = stack.URL(), stack.Keys(), stack
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "\nThe e2e stack's logs (tails):\n%s", stack.Logs(16<<10))
	}
	if err := stack.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop the e2e stack:", err)
		code = 1
	}
	return code
}

// needTarget skips the test when the suite has nothing to run against.
func needTarget(t *testing.T) {
	t.Helper()
	if target.api == "" {
		t.Skip("no stack to test: run `make e2e` (the real binaries under the Lambda Runtime Interface Emulator) or set HELPDESK_API_URL and the HELPDESK_E2E_*_KEY variables (a deployed stack)")
	}
}

// needLocal skips the test against a deployed stack, saying why, and
// returns the local stack.
func needLocal(t *testing.T, why string) *e2e.Stack {
	t.Helper()
	needTarget(t)
	if target.local == nil {
		t.Skipf("runs only against the local e2e stack (HELPDESK_API_URL is set): %s", why)
	}
	return target.local
}

// response is an API response, its body decoded when it is JSON.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// checked returns the client of t's requests: each exchange is held to
// the OpenAPI document (internal/openapitest).
func checked(t *testing.T) *http.Client {
	t.Helper()
	c := openapitest.Client(t)
	c.Timeout = 35 * time.Second
	return c
}

// api returns the URL of a path under the API's base URL.
func api(path string) string { return target.api + path }

// follow resolves a link the API returned (an absolute path) against the
// base URL.
func follow(t *testing.T, link string) string {
	t.Helper()
	base, err := url.Parse(target.api)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := url.Parse(link)
	if err != nil {
		t.Fatalf("link %q: %v", link, err)
	}
	return base.ResolveReference(ref).String()
}

// do sends a request. body is sent as it is when a string or []byte,
// JSON-encoded otherwise; nil sends none. key empty sends no
// Authorization header.
func do(t *testing.T, method, u, key string, body any) *response {
	t.Helper()
	return doWith(t, method, u, key, nil, body)
}

// doWith is do with extra request headers.
func doWith(t *testing.T, method, u, key string, header http.Header, body any) *response {
	t.Helper()
	var payload io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		payload = strings.NewReader(b)
	case []byte:
		payload = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		payload = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, payload)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := checked(t).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	r := &response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%s %s: %d with a body that is not a JSON object: %v: %.300s", method, u, res.StatusCode, err, raw)
		}
	}
	return r
}

// want fails the test unless the response has the status.
func (r *response) want(t *testing.T, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %.500s", r.status, status, r.raw)
	}
	return r
}

// wantError checks an error of the API: status, the JSON error envelope,
// its code, and exactly the fields named in its details (none: no
// details).
func (r *response) wantError(t *testing.T, status int, code string, fields ...string) {
	t.Helper()
	r.want(t, status)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	e, _ := r.body["error"].(map[string]any)
	if e == nil || e["code"] != code || e["message"] == "" || e["message"] == nil {
		t.Fatalf("error body %s, want code %s with a message", r.raw, code)
	}
	var got []string
	if details, ok := e["details"].([]any); ok {
		for _, d := range details {
			dm, _ := d.(map[string]any)
			field, _ := dm["field"].(string)
			if msg, _ := dm["message"].(string); field == "" || msg == "" {
				t.Fatalf("detail %v lacks a field or a message", d)
			}
			got = append(got, field)
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(fields))
	if !slices.Equal(got, want) {
		t.Fatalf("details name %v, want %v: %s", got, want, r.raw)
	}
}

// object returns the body's member name as an object.
func (r *response) object(t *testing.T, name string) map[string]any {
	t.Helper()
	v, ok := r.body[name].(map[string]any)
	if !ok {
		t.Fatalf("no %q object in %s", name, r.raw)
	}
	return v
}

// unique returns a short random suffix, so that what a run creates in a
// shared (deployed) stack does not meet another run's data.
func unique() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// createTicket creates a ticket with the write key, deletes it when the
// test ends (unless already gone), and returns it.
func createTicket(t *testing.T, fields map[string]any) map[string]any {
	t.Helper()
	res := do(t, "POST", api("/tickets"), target.keys.Write, map[string]any{"ticket": fields}).want(t, http.StatusCreated)
	tk := res.object(t, "ticket")
	id, _ := tk["id"].(string)
	t.Cleanup(func() {
		req, _ := http.NewRequest("DELETE", api("/tickets/"+id), nil)
		req.Header.Set("Authorization", "Bearer "+target.keys.Write)
		if res, err := checked(t).Do(req); err == nil {
			res.Body.Close()
		}
	})
	return tk
}
