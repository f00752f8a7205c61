package browser_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/browser"
)

// page shows its text only after a while and from script, so that Open has
// to wait for it; it also tries to reach the internet and logs an error.
const page = `<!DOCTYPE html><html><head><title>t</title></head><body>
<script>
setTimeout(() => { const p = document.createElement("p"); p.id = "late"; p.textContent = "arrived late"; document.body.append(p) }, 300);
fetch("http://example.com/leak").catch(() => {});
console.error("something went wrong");
</script></body></html>`

// TestOpen opens a page that shows its content late, then checks what the
// page gives: its DOM, a script's value, its requests (the attempt to leave
// the loopback included, which fails), its problems and a screenshot.
func TestOpen(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(srv.Close)
	b := browser.New(t)
	p := b.Open(t, srv.URL, browser.Selector("#late"))
	if dom := p.DOM(t); !strings.Contains(dom, `<p id="late">arrived late</p>`) {
		t.Errorf("the DOM lacks the late paragraph: %s", dom)
	}
	var text string
	p.Eval(t, `fetch("/").then(r => r.text()).then(s => s.slice(0, 15))`, &text)
	if text != "<!DOCTYPE html>" {
		t.Errorf("a promise's value: %q", text)
	}
	if reqs := p.Requests(); !slices.Contains(reqs, "http://example.com/leak") || !slices.Contains(reqs, srv.URL+"/") {
		t.Errorf("requests %q, want the page and the attempted leak", reqs)
	}
	if probs := p.Problems(); !slices.ContainsFunc(probs, func(s string) bool { return strings.Contains(s, "something went wrong") }) {
		t.Errorf("problems %q, want the console error", probs)
	}
	var leak string
	p.Eval(t, `fetch("http://example.com/").then(() => "reached", () => "failed")`, &leak)
	if leak != "failed" {
		t.Errorf("the page reached example.com")
	}
	// A second tab of the same browser waits for text, on localhost.
	b.Open(t, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), browser.Text("arrived late"))

	path := filepath.Join(t.TempDir(), "shot.png")
	p.Screenshot(t, path)
	png, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot: %v %q", err, png[:min(len(png), 8)])
	}
}
