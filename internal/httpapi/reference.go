package httpapi

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// RedocVersion is the version of Redoc, the OpenAPI renderer of the
// reference page, vendored from npm by make redoc; the Makefile's
// REDOC_VERSION must equal it.
const RedocVersion = "2.5.4"

// redocPath is where the renderer is served, under BasePath: the version
// in the path lets browsers keep it for good.
const redocPath = "/docs/redoc-" + RedocVersion + ".standalone.js"

// redocGzip is Redoc's standalone bundle as the pinned npm package holds
// it, gzip-compressed: most clients take it so, and it keeps the Lambda's
// answer (base64-encoded) far below its 6 MB limit either way.
//
//go:embed reference/redoc-2.5.4.standalone.js.gz
var redocGzip []byte

// redocPlain is the bundle decompressed, for the rare client that does not
// accept gzip; made once, on first need.
var redocPlain = sync.OnceValues(func() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(redocGzip))
	if err != nil {
		return nil, fmt.Errorf("read the embedded Redoc bundle: %w", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decompress the embedded Redoc bundle: %w", err)
	}
	return b, nil
})

// referencePage renders the OpenAPI document with Redoc. Both URLs are
// relative to the page (BasePath + "/docs"), so it works under a named API
// Gateway stage too; the renderer finds the redoc element and its
// spec-url itself, so the page needs no script of its own.
var referencePage = []byte(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Helpdesk Tickets API reference</title>
</head>
<body>
<redoc spec-url="openapi.json"></redoc>
<script src="` + strings.TrimPrefix(redocPath, "/") + `"></script>
</body>
</html>
`)

// referenceCSP lets the page load only from its own origin. Redoc needs
// inline styles (styled-components writes style elements), data: images
// (its icons) and blob: workers (its search index).
const referenceCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"style-src 'self' 'unsafe-inline'; worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (a *api) serveReference(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Cache-Control", docsCacheControl)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", referenceCSP)
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(referencePage) // the client may have gone; nothing to do
	return nil
}

// redocCacheControl lets clients and caches keep the renderer for a year:
// a new version has a new path.
const redocCacheControl = "public, max-age=31536000, immutable"

func (a *api) serveRedoc(w http.ResponseWriter, r *http.Request) error {
	body := redocGzip
	h := w.Header()
	h.Set("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Values("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
	} else {
		var err error
		if body, err = redocPlain(); err != nil {
			return err
		}
	}
	h.Set("Cache-Control", redocCacheControl)
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // the client may have gone; nothing to do
	return nil
}

// acceptsGzip reports whether Accept-Encoding header values take gzip: named,
// or matched by *, with a quality above zero.
func acceptsGzip(values []string) bool {
	star := false
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			params := strings.Split(item, ";")
			coding := strings.ToLower(strings.TrimSpace(params[0]))
			if coding != "gzip" && coding != "x-gzip" && coding != "*" {
				continue
			}
			ok := true
			for _, p := range params[1:] {
				if q, found := strings.CutPrefix(strings.ToLower(strings.TrimSpace(p)), "q="); found {
					f, err := strconv.ParseFloat(q, 64)
					ok = err == nil && f > 0
				}
			}
			if coding != "*" {
				return ok
			}
			star = ok
		}
	}
	return star
}
