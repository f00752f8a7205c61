package local_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/acme/helpdesk/infra/local"
	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/browser"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
)

// TestRunCORS: the origins of Options reach the API, and an origin no
// browser sends stops the stack before it starts anything.
func TestRunCORS(t *testing.T) {
	const origin = "http://127.0.0.1:5173"
	base, _ := startWith(t, local.Options{DataDir: t.TempDir(), Out: io.Discard, CORSOrigins: []string{origin}})
	req, _ := http.NewRequest(http.MethodOptions, base+"/helpdesk/api/v1/tickets", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
	// The JSON 431 of oversized headers is an answer the page can read.
	req, _ = http.NewRequest(http.MethodGet, base+"/helpdesk/api/v1/tickets", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("X-Padding", strings.Repeat("p", httpapi.MaxHeaderBytes))
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge || res.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("oversized headers: %d %v", res.StatusCode, res.Header)
	}

	err = local.Run(context.Background(), local.Options{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Out: io.Discard,
		Logger: slog.New(slog.DiscardHandler), CORSOrigins: []string{origin + "/"}})
	if err == nil || !strings.Contains(err.Error(), "CORS origin") {
		t.Fatalf("Run with a malformed origin: %v", err)
	}
}

// crossOriginCalls is what a browser app does with the API from its own
// origin, each call reporting the status and the headers it could read:
// create a ticket (a preflighted POST with Authorization, Content-Type and
// Idempotency-Key), read it, update it under If-Match with the ETag it
// read, and a wrong method, whose JSON error and Allow it reads too.
const crossOriginCalls = `(async (api, key) => {
  const auth = {"Authorization": "Bearer " + key};
  const seen = (r, body) => ({status: r.status, etag: r.headers.get("ETag"), location: r.headers.get("Location"),
    remaining: r.headers.get("RateLimit-Remaining"), requestId: r.headers.get("X-Request-Id"), allow: r.headers.get("Allow"), body});
  let r = await fetch(api + "/tickets", {method: "POST", headers: {...auth, "Content-Type": "application/json", "Idempotency-Key": "page-1"},
    body: JSON.stringify({ticket: {subject: "from another origin"}})});
  const created = seen(r, await r.json());
  r = await fetch(api + "/tickets/" + created.body.ticket.id, {headers: auth});
  const read = seen(r, await r.json());
  r = await fetch(api + "/tickets/" + created.body.ticket.id, {method: "PUT",
    headers: {...auth, "Content-Type": "application/json", "If-Match": read.etag}, body: JSON.stringify({ticket: {status: "open"}})});
  const updated = seen(r, await r.json());
  r = await fetch(api + "/tickets", {method: "DELETE", headers: auth});
  const wrong = seen(r, await r.json());
  return {created, read, updated, wrong};
})`

// TestCrossOriginPage: a page served from another local origin, allowed
// by the stack, calls the API with fetch in headless Chromium and reads
// the answers' bodies and the headers the API exposes (ETag first of all);
// the same calls from an origin the stack does not allow are refused by
// the browser.
func TestCrossOriginPage(t *testing.T) {
	b := browser.New(t) // before the stack: a missing browser skips without starting it
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!DOCTYPE html><html><head><title>An app</title></head><body><p id="ready">app</p></body></html>`)
	}))
	t.Cleanup(app.Close)
	other := httptest.NewServer(app.Config.Handler)
	t.Cleanup(other.Close)
	key, _, _ := auth.NewKey()
	base, _ := startWith(t, local.Options{DataDir: t.TempDir(), Out: io.Discard,
		Keys: map[helpdesk.Permission]string{helpdesk.PermWrite: key}, CORSOrigins: []string{app.URL}})
	api := base + httpapi.BasePath
	call := crossOriginCalls + "(" + strconv.Quote(api) + ", " + strconv.Quote(key) + ")"

	type answer struct {
		Status    int            `json:"status"`
		ETag      string         `json:"etag"`
		Location  string         `json:"location"`
		Remaining string         `json:"remaining"`
		RequestID string         `json:"requestId"`
		Allow     string         `json:"allow"`
		Body      map[string]any `json:"body"`
	}
	var got struct{ Created, Read, Updated, Wrong answer }
	b.Open(t, app.URL, browser.Selector("#ready")).Eval(t, call, &got)
	if got.Created.Status != http.StatusCreated || got.Created.ETag == "" || !strings.Contains(got.Created.Location, "/tickets/tkt_") {
		t.Errorf("create: %+v", got.Created)
	}
	if got.Read.Status != http.StatusOK || got.Read.ETag != got.Created.ETag || got.Read.Remaining == "" || got.Read.RequestID == "" {
		t.Errorf("read: %+v (created with ETag %q)", got.Read, got.Created.ETag)
	}
	if got.Updated.Status != http.StatusOK || got.Updated.ETag == "" || got.Updated.ETag == got.Read.ETag {
		t.Errorf("update under If-Match %q: %+v", got.Read.ETag, got.Updated)
	}
	if got.Wrong.Status != http.StatusMethodNotAllowed || got.Wrong.Allow == "" || got.Wrong.Body["error"] == nil {
		t.Errorf("wrong method: %+v", got.Wrong)
	}

	var refused string
	b.Open(t, other.URL, browser.Selector("#ready")).Eval(t, call+`.then(() => "answered", e => e.name)`, &refused)
	if refused != "TypeError" {
		t.Errorf("from an origin the stack does not allow: %s, want the browser's TypeError", refused)
	}
}
