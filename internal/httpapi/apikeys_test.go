package httpapi_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/app/serve"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/openapitest"
)

// apiKey returns the "apiKey" object of a response.
func (r response) apiKey(tb testing.TB) map[string]any {
	tb.Helper()
	k, ok := r.body["apiKey"].(map[string]any)
	if !ok {
		tb.Fatalf("no apiKey in %s", r.raw)
	}
	return k
}

func TestAPIKeys(t *testing.T) {
	e, _ := newAPI(t)
	admin := e.keys[helpdesk.PermAdmin]

	res := e.do("POST", base+"/api_keys", helpdesk.PermAdmin, `{"apiKey": {"name": "  Zapier ", "permission": "write", "rateLimit": 600}}`)
	res.want(t, http.StatusCreated, "")
	made := res.apiKey(t)
	id, key := made["id"].(string), made["key"].(string)
	if made["name"] != "Zapier" || made["permission"] != "write" || made["rateLimit"] != 600.0 || made["lastUsedAt"] != nil || !strings.HasPrefix(key, "hd_") {
		t.Fatalf("created %s", res.raw)
	}
	if loc := res.header.Get("Location"); loc != base+"/api_keys/"+id {
		t.Fatalf("Location %q", loc)
	}

	t.Run("NewKeyWorksAndRecordsItsUse", func(t *testing.T) {
		e.doKey("GET", base+"/tickets", key, nil).want(t, http.StatusOK, "")
		e.doKey("POST", base+"/tickets", key, `{"ticket": {"subject": "x"}}`).want(t, http.StatusCreated, "")
		e.doKey("GET", base+"/api_keys", key, nil).want(t, http.StatusForbidden, helpdesk.CodeForbidden)
		got := e.do("GET", base+"/api_keys/"+id, helpdesk.PermAdmin, nil)
		got.want(t, http.StatusOK, "")
		k := got.apiKey(t)
		if _, has := k["key"]; has || k["lastUsedAt"] == nil || k["createdAt"] != made["createdAt"] || k["rateLimit"] != 600.0 {
			t.Fatalf("got %s", got.raw)
		}
	})

	t.Run("ListPagesWithoutSecrets", func(t *testing.T) {
		var ids []string
		next := base + "/api_keys?page_size=2"
		for next != "" {
			page := e.do("GET", next, helpdesk.PermAdmin, nil)
			page.want(t, http.StatusOK, "")
			if strings.Contains(string(page.raw), "hd_") || strings.Contains(string(page.raw), `"key"`) {
				t.Fatalf("a list shows a key: %s", page.raw)
			}
			for _, k := range page.body["apiKeys"].([]any) {
				ids = append(ids, k.(map[string]any)["id"].(string))
			}
			next, _ = page.body["links"].(map[string]any)["next"].(string)
		}
		// The three keys of the harness, then the new one, oldest first.
		if len(ids) != 4 || ids[3] != id {
			t.Fatalf("listed %v", ids)
		}
		e.do("GET", base+"/api_keys?after=x", helpdesk.PermAdmin, nil).want(t, http.StatusBadRequest, helpdesk.CodeBadRequest)
		e.do("GET", base+"/api_keys?page_size=0&sort_order=asc", helpdesk.PermAdmin, nil).want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "sort_order", "page_size")
	})

	t.Run("Validation", func(t *testing.T) {
		cases := map[string]struct {
			body   string
			fields []string
		}{
			"Missing":      {`{"apiKey": {}}`, []string{"apiKey.name", "apiKey.permission"}},
			"Blank":        {`{"apiKey": {"name": "  ", "permission": "owner"}}`, []string{"apiKey.name", "apiKey.permission"}},
			"TooLong":      {`{"apiKey": {"name": "` + strings.Repeat("é", 101) + `", "permission": "read"}}`, []string{"apiKey.name"}},
			"RateZero":     {`{"apiKey": {"name": "x", "permission": "read", "rateLimit": 0}}`, []string{"apiKey.rateLimit"}},
			"RateTooHigh":  {`{"apiKey": {"name": "x", "permission": "read", "rateLimit": 1000001}}`, []string{"apiKey.rateLimit"}},
			"RateFraction": {`{"apiKey": {"name": "x", "permission": "read", "rateLimit": 1.5}}`, []string{"apiKey.rateLimit"}},
			"RateString":   {`{"apiKey": {"name": "x", "permission": "read", "rateLimit": "5"}}`, []string{"apiKey.rateLimit"}},
			"Types":        {`{"apiKey": {"name": 1, "permission": null}}`, []string{"apiKey.name", "apiKey.permission"}},
			"ReadOnly":     {`{"apiKey": {"name": "x", "permission": "read", "id": "key_x", "key": "hd_x"}, "other": 1}`, []string{"other", "apiKey.id", "apiKey.key"}},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				e.do("POST", base+"/api_keys", helpdesk.PermAdmin, tc.body).want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, tc.fields...)
			})
		}
		e.do("POST", base+"/api_keys", helpdesk.PermAdmin, `{"key": {}}`).want(t, http.StatusBadRequest, helpdesk.CodeBadRequest)
		res := e.doHeader("POST", base+"/api_keys", admin, http.Header{"Idempotency-Key": {"k1"}}, `{"apiKey": {"name": "x", "permission": "read"}}`)
		res.want(t, http.StatusBadRequest, helpdesk.CodeBadRequest, "Idempotency-Key")
		if msg := res.body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "cannot be replayed") {
			t.Fatalf("message %q does not say why", msg)
		}
		res = e.do("POST", base+"/api_keys", helpdesk.PermAdmin, `{"apiKey": {"name": "x", "permission": "read", "rateLimit": null}}`)
		res.want(t, http.StatusCreated, "")
		if k := res.apiKey(t); k["rateLimit"] != nil {
			t.Fatalf("rateLimit null made %s", res.raw)
		}
		e.do("DELETE", base+"/api_keys/"+res.apiKey(t)["id"].(string), helpdesk.PermAdmin, nil).want(t, http.StatusNoContent, "")
	})

	t.Run("Revoke", func(t *testing.T) {
		e.do("DELETE", base+"/api_keys/"+id, helpdesk.PermAdmin, nil).want(t, http.StatusNoContent, "")
		e.do("GET", base+"/api_keys/"+id, helpdesk.PermAdmin, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
		e.do("DELETE", base+"/api_keys/"+id, helpdesk.PermAdmin, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
		e.do("DELETE", base+"/api_keys/key_unknown", helpdesk.PermAdmin, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
		e.do("GET", base+"/api_keys/tkt_x", helpdesk.PermAdmin, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
		list := e.do("GET", base+"/api_keys", helpdesk.PermAdmin, nil)
		if strings.Contains(string(list.raw), id) {
			t.Fatalf("a revoked key is listed: %s", list.raw)
		}
		// A process that has not cached the key refuses it at once (one
		// that has, within auth.CacheTTL: TestAuthenticateCachesAndRevocationTakesEffect).
		fresh := httptest.NewServer(serve.Handler(newSystem(t, dynamotest.Client(t), e.table, true, slog.New(slog.DiscardHandler))))
		defer fresh.Close()
		e.doKey("GET", fresh.URL+base+"/tickets", key, nil).want(t, http.StatusUnauthorized, helpdesk.CodeUnauthorized)
	})

	t.Run("LastAdminKey", func(t *testing.T) {
		self := e.do("GET", base+"/api_keys", helpdesk.PermAdmin, nil)
		var selfID string
		for _, k := range self.body["apiKeys"].([]any) {
			if k := k.(map[string]any); k["permission"] == "admin" {
				selfID = k["id"].(string)
			}
		}
		res := e.do("DELETE", base+"/api_keys/"+selfID, helpdesk.PermAdmin, nil)
		res.want(t, http.StatusConflict, helpdesk.CodeConflict)
		if msg := res.body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "last valid admin key") {
			t.Fatalf("message %q", msg)
		}
		other := e.do("POST", base+"/api_keys", helpdesk.PermAdmin, `{"apiKey": {"name": "second admin", "permission": "admin"}}`).apiKey(t)
		e.do("DELETE", base+"/api_keys/"+selfID, helpdesk.PermAdmin, nil).want(t, http.StatusNoContent, "")
		otherKey, otherID := other["key"].(string), other["id"].(string)
		e.doKey("DELETE", base+"/api_keys/"+otherID, otherKey, nil).want(t, http.StatusConflict, helpdesk.CodeConflict)
	})
}

// TestAPIKeyCalls counts the DynamoDB calls of the key routes once the
// caller's key is cached and its use recorded (api-keys.md's costs):
// a create is one transaction, a key by id two reads, a revocation of
// another key the two reads (and an UpdateItem, which countingDB does not
// count), a list page one Query.
func TestAPIKeyCalls(t *testing.T) {
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	db := &countingDB{Client: dynamotest.Client(t)}
	sys := newSystem(t, db, table, false, slog.New(slog.DiscardHandler))
	key := dynamotest.AddKey(t, sys.Store, helpdesk.PermAdmin)
	srv := httptest.NewServer(serve.Handler(sys))
	defer srv.Close()
	e := &env{tb: t, url: srv.URL, store: sys.Store, keys: map[helpdesk.Permission]string{helpdesk.PermAdmin: key}, client: openapitest.Client(t)}
	e.do("GET", base+"/api_keys", helpdesk.PermAdmin, nil).want(t, http.StatusOK, "")
	db.take()

	var id string
	steps := []struct {
		name string
		run  func()
		want string
	}{
		{"Create", func() {
			id = e.do("POST", base+"/api_keys", helpdesk.PermAdmin, `{"apiKey": {"name": "x", "permission": "read"}}`).apiKey(t)["id"].(string)
		}, "[TransactWriteItems]"},
		{"Get", func() { e.do("GET", base+"/api_keys/"+id, helpdesk.PermAdmin, nil) }, "[GetItem GetItem]"},
		{"ListPage", func() { e.do("GET", base+"/api_keys?page_size=1", helpdesk.PermAdmin, nil) }, "[Query]"},
		{"Revoke", func() { e.do("DELETE", base+"/api_keys/"+id, helpdesk.PermAdmin, nil) }, "[GetItem GetItem]"},
		{"Invalid", func() { e.do("POST", base+"/api_keys", helpdesk.PermAdmin, `{"apiKey": {"name": ""}}`) }, "[]"},
		{"MalformedID", func() { e.do("GET", base+"/api_keys/tkt_x", helpdesk.PermAdmin, nil) }, "[]"},
	}
	for _, s := range steps {
		s.run()
		if got := fmt.Sprint(db.take()); got != s.want {
			t.Errorf("%s: %s, want %s", s.name, got, s.want)
		}
	}
}
