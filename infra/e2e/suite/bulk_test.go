package suite_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestBulkUpdate runs update_many and atomic tag edits through the real
// update function: its pool of writes, its Idempotency-Key (claim,
// completion, release) and the conditional writes run under the
// function's own role when deployed.
func TestBulkUpdate(t *testing.T) {
	needTarget(t)
	var ids []string
	for i := range 3 {
		ids = append(ids, createTicket(t, map[string]any{"subject": fmt.Sprintf("Bulk %d %s", i, unique()), "tags": []string{"new"}})["id"].(string))
	}
	missing := "tkt_" + strings.Repeat("z", 24)
	body := fmt.Sprintf(`{"ids": ["%s", "%s", "%s", "%s"], "ticket": {"status": "open", "addTags": ["bulk"], "removeTags": ["new"]}}`, ids[0], missing, ids[1], ids[2])
	key := http.Header{"Idempotency-Key": {"e2e-bulk-" + unique()}}
	first := doWith(t, "POST", api("/tickets/update_many"), target.keys.Write, key, body).want(t, http.StatusOK)
	results, _ := first.body["results"].([]any)
	if len(results) != 4 || first.body["ticketsOmitted"] != false {
		t.Fatalf("answer %s", first.raw)
	}
	for i, want := range []string{ids[0], missing, ids[1], ids[2]} {
		r := results[i].(map[string]any)
		status := 200.0
		if want == missing {
			status = 404
		}
		if r["id"] != want || r["status"] != status {
			t.Fatalf("result %d: %v, want %s %v", i, r, want, status)
		}
		if tk, ok := r["ticket"].(map[string]any); status == 200 && (!ok || tk["status"] != "open" || fmt.Sprint(tk["tags"]) != "[bulk]") {
			t.Fatalf("result %d: %v", i, r)
		}
	}
	again := doWith(t, "POST", api("/tickets/update_many"), target.keys.Write, key, body).want(t, http.StatusOK)
	if again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.raw, first.raw) {
		t.Fatalf("the retry was not replayed: %v %s", again.header, again.raw)
	}
	doWith(t, "POST", api("/tickets/update_many"), target.keys.Write, http.Header{"If-Match": {`"2"`}}, body).
		wantError(t, http.StatusBadRequest, "BAD_REQUEST", "If-Match")
	do(t, "POST", api("/tickets/update_many"), target.keys.Write, fmt.Sprintf(`{"ids": ["%s", "%s"], "ticket": {"tags": [], "addTags": ["x"]}}`, ids[0], ids[0])).
		wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "ids[1]", "ticket.addTags")

	t.Run("ConcurrentTagAdds", func(t *testing.T) {
		const writers = 4
		var wg sync.WaitGroup
		status := make([]int, writers)
		for i := range writers {
			wg.Go(func() {
				status[i] = do(t, "PUT", api("/tickets/"+ids[0]), target.keys.Write, fmt.Sprintf(`{"ticket": {"addTags": ["w%d"]}}`, i)).status
			})
		}
		wg.Wait()
		tk := do(t, "GET", api("/tickets/"+ids[0]), target.keys.Read, nil).want(t, http.StatusOK).object(t, "ticket")
		var tags []string
		for _, tag := range tk["tags"].([]any) {
			tags = append(tags, tag.(string))
		}
		for i, s := range status {
			if s != http.StatusOK || !slices.Contains(tags, fmt.Sprintf("w%d", i)) {
				t.Errorf("writer %d answered %d; tags %q", i, s, tags)
			}
		}
	})
}
