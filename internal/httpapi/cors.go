package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CORSPolicy is what a page from another origin may do with the API, but
// for the origins themselves, which each stack configures.
type CORSPolicy struct {
	// AllowMethods are the methods a preflight may ask for.
	AllowMethods []string
	// AllowHeaders are the request headers the API reads that a page
	// cannot send without a preflight.
	AllowHeaders []string
	// ExposeHeaders are the response headers the API sends that a page
	// may read beyond the CORS-safelisted ones.
	ExposeHeaders []string
	// MaxAge is how long a browser may reuse a preflight's answer.
	MaxAge time.Duration
}

// CORS is the API's one cross-origin policy. New applies it locally and
// the CDK stack configures the deployed HTTP API with it, so that a
// browser meets the same answers from make run and from AWS.
//
// It never allows credentials: the API takes a bearer key in
// Authorization, which a page sends itself, and no cookie; so "*" as the
// allowed origin is safe.
var CORS = CORSPolicy{
	// HEAD is CORS-safelisted, never asked for in a preflight.
	AllowMethods:  routeMethods(),
	AllowHeaders:  []string{"Authorization", "Content-Type", idempotencyKeyHeader, "If-Match"},
	ExposeHeaders: []string{"Allow", "ETag", replayedHeader, "Location", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After", "WWW-Authenticate", "X-Request-Id"},
	MaxAge:        time.Hour,
}

// routeMethods returns the methods of Routes, each once, in their order.
func routeMethods() []string {
	var methods []string
	for _, rt := range Routes {
		if !slices.Contains(methods, rt.Method) {
			methods = append(methods, rt.Method)
		}
	}
	return methods
}

// withCORS answers as the HTTP API's CORS configuration does when
// deployed with these origins: a preflight (OPTIONS with Origin and
// Access-Control-Request-Method) gets 204, with the policy's headers when
// its origin is allowed and none otherwise; every other answer to an
// allowed origin carries Access-Control-Allow-Origin and
// Access-Control-Expose-Headers. It wraps everything else, so that errors
// written anywhere within (the catch-all, a recovered panic) carry them
// too. Without origins it adds nothing, and OPTIONS is answered as any
// other method is.
func withCORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	anyOrigin := slices.Contains(origins, "*")
	methods := strings.Join(CORS.AllowMethods, ", ")
	headers := strings.Join(CORS.AllowHeaders, ", ")
	expose := strings.Join(CORS.ExposeHeaders, ", ")
	maxAge := strconv.Itoa(int(CORS.MaxAge.Seconds()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		origin := r.Header.Get("Origin")
		allow := ""
		switch {
		case origin == "":
		case anyOrigin:
			allow = "*"
		case slices.Contains(origins, origin):
			allow = origin
		}
		if !anyOrigin {
			// The answer names the origin, or leaves it out: a cache must
			// not serve it to another.
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			if allow != "" {
				h.Set("Access-Control-Allow-Origin", allow)
				h.Set("Access-Control-Allow-Methods", methods)
				h.Set("Access-Control-Allow-Headers", headers)
				h.Set("Access-Control-Max-Age", maxAge)
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allow != "" {
			h.Set("Access-Control-Allow-Origin", allow)
			h.Set("Access-Control-Expose-Headers", expose)
		}
		next.ServeHTTP(w, r)
	})
}
