package suite_test

import (
	"net/http"
	"strings"
	"testing"
)

// newAPIKey creates a key with the admin key, revokes it when the test
// ends (unless already revoked), and returns the created object, key
// included.
func newAPIKey(t *testing.T, fields map[string]any) map[string]any {
	t.Helper()
	res := do(t, "POST", api("/api_keys"), target.keys.Admin, map[string]any{"apiKey": fields}).want(t, http.StatusCreated)
	k := res.object(t, "apiKey")
	id, _ := k["id"].(string)
	if loc := res.header.Get("Location"); !strings.HasSuffix(loc, basePath+"/api_keys/"+id) {
		t.Fatalf("Location %q for %s", loc, id)
	}
	t.Cleanup(func() {
		req, _ := http.NewRequest("DELETE", api("/api_keys/"+id), nil)
		req.Header.Set("Authorization", "Bearer "+target.keys.Admin)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	})
	return k
}

// TestAPIKeys manages a key over the API: create it, use it and see its
// use recorded, list keys without secrets, refuse an Idempotency-Key,
// revoke it and see it refused by a function that never cached it.
func TestAPIKeys(t *testing.T) {
	needTarget(t)
	made := newAPIKey(t, map[string]any{"name": "e2e " + unique(), "permission": "write", "rateLimit": 120})
	id, key := made["id"].(string), made["key"].(string)
	if !strings.HasPrefix(key, "hd_") || made["lastUsedAt"] != nil || made["rateLimit"] != 120.0 || made["permission"] != "write" {
		t.Fatalf("created %v", made)
	}

	// The list function serves (and caches) the new key; its use is
	// recorded before it answers.
	do(t, "GET", api("/tickets?page_size=1"), key, nil).want(t, http.StatusOK)
	do(t, "GET", api("/api_keys"), key, nil).wantError(t, http.StatusForbidden, "FORBIDDEN")
	got := do(t, "GET", api("/api_keys/"+id), target.keys.Admin, nil).want(t, http.StatusOK).object(t, "apiKey")
	if _, has := got["key"]; has || got["lastUsedAt"] == nil || got["name"] != made["name"] {
		t.Fatalf("got %v", got)
	}

	t.Run("ListWithoutSecrets", func(t *testing.T) {
		found := false
		for next := api("/api_keys?page_size=2"); next != ""; {
			page := do(t, "GET", next, target.keys.Admin, nil).want(t, http.StatusOK)
			if strings.Contains(string(page.raw), "hd_") || strings.Contains(string(page.raw), `"key"`) {
				t.Fatalf("a list shows a key: %s", page.raw)
			}
			for _, k := range page.body["apiKeys"].([]any) {
				found = found || k.(map[string]any)["id"] == id
			}
			link, _ := page.body["links"].(map[string]any)["next"].(string)
			next = ""
			if link != "" {
				next = follow(t, link)
			}
		}
		if !found {
			t.Fatalf("key %s not listed", id)
		}
	})

	t.Run("NoIdempotencyKey", func(t *testing.T) {
		doWith(t, "POST", api("/api_keys"), target.keys.Admin, http.Header{"Idempotency-Key": {unique()}},
			map[string]any{"apiKey": map[string]any{"name": "x", "permission": "read"}}).wantError(t, http.StatusBadRequest, "BAD_REQUEST", "Idempotency-Key")
		do(t, "POST", api("/api_keys"), target.keys.Admin, map[string]any{"apiKey": map[string]any{"name": " ", "permission": "root", "rateLimit": 0}}).
			wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "apiKey.name", "apiKey.permission", "apiKey.rateLimit")
	})

	t.Run("AdminRevokesItselfWhileAnotherAdminRemains", func(t *testing.T) {
		other := newAPIKey(t, map[string]any{"name": "e2e admin " + unique(), "permission": "admin"})
		do(t, "DELETE", api("/api_keys/"+other["id"].(string)), other["key"].(string), nil).want(t, http.StatusNoContent)
	})

	t.Run("Revoke", func(t *testing.T) {
		do(t, "DELETE", api("/api_keys/"+id), target.keys.Admin, nil).want(t, http.StatusNoContent)
		do(t, "GET", api("/api_keys/"+id), target.keys.Admin, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
		do(t, "DELETE", api("/api_keys/"+id), target.keys.Admin, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
		// The get function never saw the key: it refuses it at once.
		// (The list function, which cached it, within 60 s.)
		do(t, "GET", api("/tickets/tkt_aaaaaaaaaaaaaaaaaaaaaaaa"), key, nil).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
	})
}
