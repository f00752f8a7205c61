package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/httpapi"
)

// The browser test of the page is infra/local's TestReferencePage; these
// check what the openapi function answers.

func TestReferencePageServed(t *testing.T) {
	h := httpapi.NewDocs(slog.New(slog.DiscardHandler), nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", base+"/docs", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control %q", cc)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'; script-src 'self';") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	// Relative URLs, so that the page works under a named stage too.
	page := rec.Body.String()
	for _, want := range []string{`<redoc spec-url="openapi.json">`, `<script src="docs/redoc-` + httpapi.RedocVersion + `.standalone.js">`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

func TestRendererServed(t *testing.T) {
	h := httpapi.NewDocs(slog.New(slog.DiscardHandler), nil)
	get := func(acceptEncoding string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", base+"/docs/redoc-"+httpapi.RedocVersion+".standalone.js", nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" ||
			rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" || rec.Header().Get("Vary") != "Accept-Encoding" {
			t.Fatalf("Accept-Encoding %q: status %d, headers %v", acceptEncoding, rec.Code, rec.Header())
		}
		return rec
	}
	zipped := get("gzip, deflate, br")
	if zipped.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", zipped.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(unzipped, []byte("/*! For license information please see redoc.standalone.js.LICENSE.txt */")) {
		t.Fatalf("not Redoc's standalone bundle: %q", unzipped[:80])
	}
	for _, ae := range []string{"", "identity", "gzip;q=0"} {
		plain := get(ae)
		if plain.Header().Get("Content-Encoding") != "" || !bytes.Equal(plain.Body.Bytes(), unzipped) {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, not the bundle as it is", ae, plain.Header().Get("Content-Encoding"))
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"":                    false,
		"gzip":                true,
		"GZIP":                true,
		"br, gzip;q=0.5":      true,
		"x-gzip":              true,
		"gzip;q=0":            false,
		"gzip; q=0.000":       false,
		"*":                   true,
		"*;q=0":               false,
		"gzip;q=0, *":         false,
		"br;q=1.0, deflate":   false,
		"identity, *;q=0.1":   true,
		"gzip;level=1;q=0.2":  true,
		"gzip;q=nonsense":     false,
		"deflate, gzip;q=1.0": true,
	} {
		if got := httpapi.AcceptsGzip([]string{header}); got != want {
			t.Errorf("Accept-Encoding %q: %v, want %v", header, got, want)
		}
	}
}

// TestRedocVersionInMakefile: the Makefile vendors the version the
// handler serves.
func TestRedocVersionInMakefile(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^REDOC_VERSION := (\S+)$`).FindSubmatch(mk)
	if m == nil || string(m[1]) != httpapi.RedocVersion {
		t.Fatalf("the Makefile's REDOC_VERSION is %q, httpapi.RedocVersion %q", m, httpapi.RedocVersion)
	}
}
