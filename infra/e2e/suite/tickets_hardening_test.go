package suite_test

import (
	"bytes"
	"net/http"
	"testing"
)

// TestIdempotencyAndETags sends an idempotent create twice and races an
// update against a stale ETag through the real functions: the claim, the
// create's transaction and the conditional writes run under the functions'
// own roles when deployed.
func TestIdempotencyAndETags(t *testing.T) {
	needTarget(t)
	key := http.Header{"Idempotency-Key": {"e2e-" + unique()}}
	body := `{"ticket": {"subject": "Idempotent end to end"}}`
	first := doWith(t, "POST", api("/tickets"), target.keys.Write, key, body).want(t, http.StatusCreated)
	again := doWith(t, "POST", api("/tickets"), target.keys.Write, key, body).want(t, http.StatusCreated)
	if again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.raw, first.raw) {
		t.Fatalf("the retry was not replayed: %v %s", again.header, again.raw)
	}
	doWith(t, "POST", api("/tickets"), target.keys.Write, key, `{"ticket": {"subject": "Another"}}`).
		wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "Idempotency-Key")

	id := first.object(t, "ticket")["id"].(string)
	path := api("/tickets/" + id)
	if tag := first.header.Get("ETag"); tag != `"1"` {
		t.Fatalf("create ETag %q", tag)
	}
	updated := doWith(t, "PUT", path, target.keys.Write, http.Header{"If-Match": {`"1"`}}, `{"ticket": {"status": "open"}}`).want(t, http.StatusOK)
	if updated.header.Get("ETag") != `"2"` {
		t.Fatalf("update ETag %q", updated.header.Get("ETag"))
	}
	doWith(t, "PUT", path, target.keys.Write, http.Header{"If-Match": {`"1"`}}, `{"ticket": {"status": "closed"}}`).
		wantError(t, http.StatusPreconditionFailed, "PRECONDITION_FAILED")
	doWith(t, "DELETE", path, target.keys.Write, http.Header{"If-Match": {`"1"`}}, nil).
		wantError(t, http.StatusPreconditionFailed, "PRECONDITION_FAILED")
	doWith(t, "DELETE", path, target.keys.Write, http.Header{"If-Match": {`"2"`}}, nil).want(t, http.StatusNoContent)
}
