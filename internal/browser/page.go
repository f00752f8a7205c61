package browser

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Condition is what Open waits for in a page: a JavaScript expression that
// becomes true.
type Condition struct {
	desc string // for the failure message
	expr string
}

// Selector holds once an element matches the CSS selector css.
func Selector(css string) Condition {
	return Condition{desc: "an element matching " + strconv.Quote(css), expr: "document.querySelector(" + jsString(css) + ") !== null"}
}

// Text holds once the page's visible text contains s.
func Text(s string) Condition {
	return Condition{desc: "the text " + strconv.Quote(s), expr: "!!document.body && document.body.innerText.includes(" + jsString(s) + ")"}
}

// JS holds once the JavaScript expression expr is truthy.
func JS(expr string) Condition {
	return Condition{desc: "the expression " + expr, expr: "!!(" + expr + ")"}
}

func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

// Page is a tab of the browser with what it has requested and reported so
// far.
type Page struct {
	b       *Browser
	session string
	url     string

	mu       sync.Mutex
	requests []string
	problems []string
}

// Open starts a browser for the test (as New does) and opens url in it,
// waiting until the condition holds.
func Open(tb testing.TB, url string, until Condition) *Page {
	tb.Helper()
	return New(tb).Open(tb, url, until)
}

// Open opens url in a new tab and waits until the condition holds; the
// test fails if it does not within Timeout, with the page's problems and
// the start of its text.
func (b *Browser) Open(tb testing.TB, url string, until Condition) *Page {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		tb.Fatal(err)
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		tb.Fatal(err)
	}
	p := &Page{b: b, session: attached.SessionID, url: url}
	b.mu.Lock()
	b.pages[p.session] = p
	b.mu.Unlock()
	for _, method := range []string{"Network.enable", "Log.enable", "Runtime.enable", "Page.enable"} {
		p.call(tb, ctx, method, nil, nil)
	}
	p.call(tb, ctx, "Emulation.setDeviceMetricsOverride", map[string]any{"width": Width, "height": Height, "deviceScaleFactor": 1, "mobile": false}, nil)
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	p.call(tb, ctx, "Page.navigate", map[string]any{"url": url}, &nav)
	if nav.ErrorText != "" {
		tb.Fatalf("open %s: %s", url, nav.ErrorText)
	}
	for {
		var ok bool
		if err := p.eval(ctx, until.expr, &ok); err != nil && ctx.Err() == nil {
			tb.Fatalf("%s: waiting for %s: %v", url, until.desc, err)
		}
		if ok {
			return p
		}
		select {
		case <-ctx.Done():
			var text string
			_ = p.eval(context.Background(), "document.body ? document.body.innerText.slice(0, 500) : ''", &text)
			tb.Fatalf("%s: no %s after %v; the page reported %q; its text begins %q", url, until.desc, Timeout, p.Problems(), text)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Eval evaluates the JavaScript expression expr in the page, awaiting it
// if it is a promise, and decodes its value (as JSON) into out unless that
// is nil.
func (p *Page) Eval(tb testing.TB, expr string, out any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := p.eval(ctx, expr, out); err != nil {
		tb.Fatalf("%s: evaluate %s: %v", p.url, expr, err)
	}
}

func (p *Page) eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.b.call(ctx, p.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res)
	switch {
	case err != nil:
		return err
	case res.ExceptionDetails != nil:
		return fmt.Errorf("%s %s", res.ExceptionDetails.Text, res.ExceptionDetails.Exception.Description)
	case out != nil && len(res.Result.Value) > 0:
		return json.Unmarshal(res.Result.Value, out)
	}
	return nil
}

// DOM returns the page's document as HTML, as it stands now.
func (p *Page) DOM(tb testing.TB) string {
	tb.Helper()
	var html string
	p.Eval(tb, "document.documentElement.outerHTML", &html)
	return html
}

// Screenshot saves what the page's window shows as a PNG file at path.
func (p *Page) Screenshot(tb testing.TB, path string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	var shot struct {
		Data string `json:"data"`
	}
	p.call(tb, ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		tb.Fatalf("screenshot of %s: %v", p.url, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// Requests returns the URL of every request the page has made so far,
// including those that failed or were blocked, in order.
func (p *Page) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requests)
}

// Problems returns what the page has reported so far that a working page
// does not: uncaught exceptions, console errors and warnings, and the
// browser's own errors and warnings about it (a Content-Security-Policy
// violation, a failed load).
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.problems)
}

func (p *Page) call(tb testing.TB, ctx context.Context, method string, params, result any) {
	tb.Helper()
	if err := p.b.call(ctx, p.session, method, params, result); err != nil {
		tb.Fatalf("%s: %v", p.url, err)
	}
}

// event records what the page reports; the browser's reader calls it with
// the browser's lock held.
func (p *Page) event(method string, params json.RawMessage) {
	var e struct {
		Request struct {
			URL string `json:"url"`
		} `json:"request"`
		Entry struct {
			Level  string `json:"level"`
			Source string `json:"source"`
			Text   string `json:"text"`
			URL    string `json:"url"`
		} `json:"entry"`
		Type string `json:"type"`
		Args []struct {
			Value       any    `json:"value"`
			Description string `json:"description"`
		} `json:"args"`
		ExceptionDetails struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if json.Unmarshal(params, &e) != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch method {
	case "Network.requestWillBeSent":
		p.requests = append(p.requests, e.Request.URL)
	case "Log.entryAdded":
		if e.Entry.Level == "error" || e.Entry.Level == "warning" {
			p.problems = append(p.problems, fmt.Sprintf("%s %s: %s %s", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL))
		}
	case "Runtime.consoleAPICalled":
		if e.Type == "error" || e.Type == "warning" || e.Type == "assert" {
			var parts []string
			for _, a := range e.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, fmt.Sprint(a.Value))
				}
			}
			p.problems = append(p.problems, "console "+e.Type+": "+strings.Join(parts, " "))
		}
	case "Runtime.exceptionThrown":
		p.problems = append(p.problems, "exception: "+e.ExceptionDetails.Text+" "+e.ExceptionDetails.Exception.Description)
	}
}
