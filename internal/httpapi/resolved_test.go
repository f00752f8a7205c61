package httpapi

import (
	"net/http/httptest"
	"testing"
)

// TestResolved: the idempotency fingerprint's route carries the request's
// path values, and a route without wildcards is unchanged (so keys stored
// before comments existed still match their retries).
func TestResolved(t *testing.T) {
	r := httptest.NewRequest("POST", "/x", nil)
	r.SetPathValue("id", "tkt_a")
	r.SetPathValue("commentId", "cmt_b")
	for route, want := range map[string]string{
		"POST /tickets":                                  "POST /tickets",
		"POST /tickets/{id}/comments":                    "POST /tickets/tkt_a/comments",
		"POST /tickets/{id}/comments/{commentId}/redact": "POST /tickets/tkt_a/comments/cmt_b/redact",
		"GET /odd/{":                                     "GET /odd/{",
	} {
		if got := resolved(route, r); got != want {
			t.Errorf("resolved(%q) = %q, want %q", route, got, want)
		}
	}
}
