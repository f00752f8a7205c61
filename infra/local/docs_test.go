package local_test

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/browser"
	"github.com/acme/helpdesk/internal/httpapi"
)

// redocLogo is the one URL the reference page asks for elsewhere: Redoc
// 2.5.4 always shows Redocly's logo from its CDN in the sidebar's footer.
// The page's Content-Security-Policy blocks it before it is sent (the
// logo then hides itself), and the offline browser could not resolve the
// host anyway.
const redocLogo = "https://cdn.redoc.ly/redoc/logo-mini.svg"

// TestReferencePage opens the API reference page of the local stack in
// headless Chromium and checks that Redoc rendered the document: every
// operation of its paths and webhooks, with its summary (a webhook's is
// its event type), the method and path of a path's, and every response
// status it documents. The page
// must not reach beyond the stack's origin (its Content-Security-Policy
// blocks Redoc's logo, the one exception, before it is sent) nor report
// any other problem. The screenshot lands in the test's artifact
// directory (make unit: .local/test-artifacts).
func TestReferencePage(t *testing.T) {
	b := browser.New(t) // before the stack: a missing browser skips without starting it
	base, _ := start(t, t.TempDir(), nil, io.Discard)
	page := b.Open(t, base+httpapi.BasePath+"/docs", browser.Selector(`[id="operation/ticketCreatedWebhook"]`))

	var doc struct {
		Paths    map[string]map[string]json.RawMessage `json:"paths"`
		Webhooks map[string]map[string]json.RawMessage `json:"webhooks"`
	}
	if err := json.Unmarshal(httpapi.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	// Each operation's section, as text (textContent: collapsed parts too).
	var sections map[string]string
	page.Eval(t, `Object.fromEntries([...document.querySelectorAll('[id^="operation/"]')].map(e => [e.id.slice(10), e.textContent]))`, &sections)
	check := func(kind, name string, item map[string]json.RawMessage) {
		for method, raw := range item {
			var op operation
			if !slices.Contains(methods, method) || json.Unmarshal(raw, &op) != nil {
				continue // parameters, summary: not an operation
			}
			text, ok := sections[op.OperationID]
			if !ok {
				t.Errorf("%s %s %s (%s) is not on the page", kind, strings.ToUpper(method), name, op.OperationID)
				continue
			}
			want := append([]string{op.Summary}, slices.Sorted(maps.Keys(op.Responses))...)
			if kind == "path" {
				want = append(want, method+name) // Redoc shows a webhook by its summary alone
			}
			for _, want := range want {
				if !strings.Contains(text, want) {
					t.Errorf("%s %s %s (%s): its section lacks %q", kind, strings.ToUpper(method), name, op.OperationID, want)
				}
			}
		}
	}
	for path, ops := range doc.Paths {
		check("path", path, ops)
	}
	for event, ops := range doc.Webhooks {
		check("webhook", event, ops)
	}
	if len(doc.Webhooks) == 0 || len(doc.Paths) == 0 {
		t.Fatalf("the document has %d paths, %d webhooks", len(doc.Paths), len(doc.Webhooks))
	}

	origin, _ := url.Parse(base)
	for _, r := range page.Requests() {
		u, err := url.Parse(r)
		local := err == nil && (u.Scheme == "data" || u.Scheme == "blob" || u.Host == origin.Host)
		if !local && r != redocLogo {
			t.Errorf("the page requested %s, beyond the stack's origin %s", r, base)
		}
	}
	for _, p := range page.Problems() {
		if !strings.Contains(p, "Loading the image '"+redocLogo+"' violates the following Content Security Policy directive") {
			t.Errorf("the page reported: %s", p)
		}
	}

	res, err := http.Get(base + httpapi.BasePath + "/docs")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}

	shot := filepath.Join(t.ArtifactDir(), "reference-page.png")
	page.Screenshot(t, shot)
	t.Logf("screenshot: %s", shot)
}

// methods are the keys of an OpenAPI path item that hold operations.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operation is what the test reads of an OpenAPI operation.
type operation struct {
	OperationID string                     `json:"operationId"`
	Summary     string                     `json:"summary"`
	Responses   map[string]json.RawMessage `json:"responses"`
}
