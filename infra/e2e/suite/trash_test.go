package suite_test

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestTrash carries a ticket through the trash with the real trash,
// delete and dispatch binaries: deleted, it is listed in the trash with
// deletedAt and its comment is hidden; restored, it is back with its
// comment and a new ETag, and its history says ticket.restored; deleted
// and purged, it is nowhere, its history is 404, and the feed names it
// in ticket.purged alone. Wrong permissions and tickets not in the trash
// are refused.
func TestTrash(t *testing.T) {
	needTarget(t)
	id := createTicket(t, map[string]any{"subject": "Trash end to end"})["id"].(string)
	newComment(t, id, map[string]any{"body": "Kept through the trash.", "authorId": "usr_e2e"})
	etag := do(t, "GET", api("/tickets/"+id), target.keys.Read, nil).want(t, http.StatusOK).header.Get("ETag")
	do(t, "DELETE", api("/tickets/"+id), target.keys.Write, nil).want(t, http.StatusNoContent)
	do(t, "GET", commentsURL(id), target.keys.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")

	found := false
	for u := api("/deleted_tickets?page_size=100"); u != ""; {
		res := do(t, "GET", u, target.keys.Read, nil).want(t, http.StatusOK)
		for _, tk := range res.body["tickets"].([]any) {
			if entry := tk.(map[string]any); entry["id"] == id {
				found = entry["subject"] == "Trash end to end" && timeFormat.MatchString(entry["deletedAt"].(string))
			}
		}
		u = ""
		if next, ok := res.object(t, "links")["next"].(string); ok {
			u = follow(t, next)
		}
	}
	if !found {
		t.Fatal("the deleted ticket is not in the trash with its deletedAt")
	}

	do(t, "POST", api("/deleted_tickets/"+id+"/restore"), target.keys.Read, nil).wantError(t, http.StatusForbidden, "FORBIDDEN")
	res := do(t, "POST", api("/deleted_tickets/"+id+"/restore"), target.keys.Write, nil).want(t, http.StatusOK)
	if res.object(t, "ticket")["id"] != id || res.header.Get("ETag") == etag {
		t.Fatalf("restored %s with ETag %s (was %s)", res.raw, res.header.Get("ETag"), etag)
	}
	if got := do(t, "GET", commentsURL(id), target.keys.Read, nil).want(t, http.StatusOK).body["comments"].([]any); len(got) != 1 {
		t.Fatalf("the restored ticket has %d comments, want its one", len(got))
	}
	awaitHistory(t, id, "ticket.created", "ticket.comment.created", "ticket.deleted", "ticket.restored")

	do(t, "DELETE", api("/tickets/"+id), target.keys.Write, nil).want(t, http.StatusNoContent)
	do(t, "DELETE", api("/deleted_tickets/"+id), target.keys.Write, nil).wantError(t, http.StatusForbidden, "FORBIDDEN")
	do(t, "DELETE", api("/deleted_tickets/"+id), target.keys.Admin, nil).want(t, http.StatusNoContent)
	do(t, "DELETE", api("/deleted_tickets/"+id), target.keys.Admin, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
	do(t, "POST", api("/deleted_tickets/"+id+"/restore"), target.keys.Write, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
	do(t, "GET", api("/tickets/"+id+"/events"), target.keys.Read, nil).wantError(t, http.StatusNotFound, "NOT_FOUND")
	if target.local != nil {
		awaitPurged(t, target.local, id, 10*time.Second)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		evs, _ := walkEvents(t, api("/events?page_size=1000&ticket_id="+id))
		var types []string
		for _, ev := range evs {
			types = append(types, ev["type"].(string))
		}
		if slices.Equal(types, []string{"ticket.purged"}) {
			if data := evs[0]["data"].(map[string]any); data["ticketId"] != id || len(data) != 1 {
				t.Fatalf("ticket.purged data %v, want only the ticket's id", data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the feed holds %v of the purged ticket, want ticket.purged alone", types)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// awaitHistory waits (the feed settles for 5 s) until ticket id's history
// lists exactly the event types want, in order.
func awaitHistory(t *testing.T, id string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		evs, _ := walkEvents(t, api("/tickets/"+id+"/events?page_size=1000"))
		var types []string
		for _, ev := range evs {
			types = append(types, ev["type"].(string))
		}
		if slices.Equal(types, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the history of %s is %v, want %v", id, types, want)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
