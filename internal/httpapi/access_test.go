package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
)

// testPermissions sends every route with every permission and checks that
// exactly the permitted ones get past authorization.
func testPermissions(t *testing.T) {
	e, _ := newAPI(t)
	ticket := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
	field := e.do("POST", base+"/custom_fields", helpdesk.PermAdmin, `{"customField":{"name":"F","type":"text"}}`).body["customField"].(map[string]any)["id"].(string)
	for _, rt := range httpapi.Routes {
		if rt.Public() {
			continue // TestOpenAPIServed
		}
		path := base + strings.ReplaceAll(rt.Path, "{id}", map[bool]string{true: ticket, false: field}[strings.HasPrefix(rt.Path, "/tickets")])
		for _, perm := range helpdesk.Permissions {
			t.Run(rt.Method+" "+rt.Path+" as "+string(perm), func(t *testing.T) {
				// An invalid body: a permitted request fails validation
				// (or succeeds for bodiless routes), never writes.
				res := e.do(rt.Method, path, perm, `{"nope": 1}`)
				if rt.Method == "DELETE" {
					res = e.do(rt.Method, path+"x", perm, nil) // a missing resource: 404 once permitted
				}
				forbidden := res.status == http.StatusForbidden
				if forbidden == perm.Allows(rt.Needs) {
					t.Fatalf("status %d for %s needing %s: %s", res.status, perm, rt.Needs, res.raw)
				}
				if forbidden {
					res.want(t, http.StatusForbidden, helpdesk.CodeForbidden)
				}
			})
		}
	}
}

// testAuthentication sends keys that must not open the API: missing,
// malformed, unknown, revoked, or in the wrong place.
func testAuthentication(t *testing.T) {
	e, _ := newAPI(t)
	path := base + "/tickets"
	revokedKey, hash, id := auth.NewKey()
	if err := e.store.CreateAPIKey(context.Background(), &helpdesk.APIKey{ID: id, Name: "old", Permission: helpdesk.PermAdmin, Hash: hash, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.RevokeAPIKey(context.Background(), id, time.Now()); err != nil {
		t.Fatal(err)
	}
	unknown, _, _ := auth.NewKey()
	header := func(v string) func(*http.Request) { return func(r *http.Request) { r.Header.Set("Authorization", v) } }
	cases := map[string]func(*http.Request){
		"Missing":         func(*http.Request) {},
		"NotBearer":       header("Basic " + e.keys[helpdesk.PermRead]),
		"BearerNoKey":     header("Bearer "),
		"Malformed":       header("Bearer hd_short"),
		"WrongPrefix":     header("Bearer xx_" + e.keys[helpdesk.PermRead][3:]),
		"Unknown":         header("Bearer " + unknown),
		"Revoked":         header("Bearer " + revokedKey),
		"KeyInQueryOnly":  func(r *http.Request) { r.URL.RawQuery = "api_key=" + e.keys[helpdesk.PermRead] },
		"TokenInQuery":    func(r *http.Request) { r.URL.RawQuery = "access_token=" + e.keys[helpdesk.PermRead] },
		"KeyInOtherField": func(r *http.Request) { r.Header.Set("X-Api-Key", e.keys[helpdesk.PermRead]) },
		"KeyAsCookie":     func(r *http.Request) { r.Header.Set("Cookie", "api_key="+e.keys[helpdesk.PermRead]) },
		"KeyTwice":        header("Bearer " + e.keys[helpdesk.PermRead] + " " + e.keys[helpdesk.PermRead]),
		"Oversized":       header("Bearer hd_" + strings.Repeat("A", 64<<10)),
	}
	for name, set := range cases {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.url+path, nil)
			set(req)
			res, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("status %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
		})
	}
	t.Run("SchemeIsCaseInsensitive", func(t *testing.T) {
		e.doKey("GET", path, "", nil).want(t, http.StatusUnauthorized, helpdesk.CodeUnauthorized)
		req, _ := http.NewRequest("GET", e.url+path, nil)
		req.Header.Set("Authorization", "bearer "+e.keys[helpdesk.PermRead])
		res, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
}

// TestOnlyOwnRoutes: a handler built for one endpoint serves only its
// routes. A method no route takes on a path is 405 with every method the
// whole route table takes there, as the $default function answers it for
// paths other functions serve; another function's route is 404, as is any
// other path.
func TestOnlyOwnRoutes(t *testing.T) {
	e, _ := newAPI(t, httpapi.GetTicket)
	e.do("GET", base+"/tickets/tkt_missing", helpdesk.PermAdmin, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	res := e.do("PATCH", base+"/tickets/tkt_missing", helpdesk.PermAdmin, `{"ticket":{}}`)
	res.want(t, http.StatusMethodNotAllowed, helpdesk.CodeMethodNotAllowed)
	if res.header.Get("Allow") != "GET, HEAD, PUT, DELETE" {
		t.Fatalf("Allow %q", res.header.Get("Allow"))
	}
	e.do("PUT", base+"/tickets/tkt_missing", helpdesk.PermAdmin, `{"ticket":{}}`).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	e.do("POST", base+"/tickets", helpdesk.PermAdmin, `{"ticket":{"subject":"x"}}`).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	e.do("GET", base+"/custom_fields", helpdesk.PermAdmin, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
}
