package suite_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/acme/helpdesk/events"
)

// This file sorts before suite_test.go, and TestCommentWebhooks subscribes
// first of all: the dispatch function caches the subscriptions it reads for
// 30 s (see TestWebhooks), so a subscription made before any ticket has
// changed is in every list it reads, and neither this test nor TestWebhooks
// has to wait for the cache to expire. The test then pauses (t.Parallel)
// until the sequential tests have run, and changes its own ticket; its
// receiver meanwhile gets the other tests' events too, which it ignores.

// TestCommentWebhooks comments on a pending ticket (an agent's reply, an
// internal note, then the customer's answer, which reopens it), redacts
// the reply twice and deletes the ticket, and receives through the real
// dispatch binary exactly the signed ticket.comment.created,
// ticket.comment.redacted and ticket.updated events the contract promises:
// one per comment, one for the redaction, one for the reopening, and none
// for the agent's comments moving the ticket's updatedAt, the second
// redaction or the comments purged with the ticket.
func TestCommentWebhooks(t *testing.T) {
	stack := needLocal(t, "the webhook receivers listen on 127.0.0.1, which a deployed stack cannot reach")
	hooks := newReceiver(t, func(int) int { return http.StatusNoContent })
	_, secret := subscribe(t, hooks.srv.URL+"/comments", events.TicketCommentCreated, events.TicketCommentRedacted, events.TicketUpdated)
	if err := stack.AwaitSubscriptions(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Parallel()

	agent := "usr_e2e-" + unique()
	const customer = "customer@example.com"
	id := createTicket(t, map[string]any{"subject": "Comment webhooks", "status": "pending", "requesterEmail": customer})["id"].(string)
	reply := newComment(t, id, map[string]any{"body": "We are on it.", "authorId": agent})
	note := newComment(t, id, map[string]any{"body": "Escalated to tier 2.", "public": false, "authorId": agent})
	answer := newComment(t, id, map[string]any{"body": "Any news?", "authorEmail": customer, "authorName": "Ada Lovelace"})
	redactPath := commentsURL(id, reply["id"].(string), "redact")
	redacted := do(t, "POST", redactPath, target.keys.Write, nil).want(t, http.StatusOK).object(t, "comment")
	do(t, "POST", redactPath, target.keys.Write, nil).want(t, http.StatusOK)

	const want = 5 // 3 created, 1 redacted, 1 updated
	mine := func() []delivery {
		var out []delivery
		for _, d := range hooks.deliveries() {
			var ev events.Event
			if json.Unmarshal(d.body, &ev) == nil && ev.Data.Ticket.ID == id {
				out = append(out, d)
			}
		}
		return out
	}
	describe := func(ds []delivery) string {
		var types []string
		for _, d := range ds {
			var ev events.Event
			_ = json.Unmarshal(d.body, &ev)
			types = append(types, ev.Type)
		}
		return fmt.Sprint(types)
	}
	// The ticket is deleted only once the events have come, so that each
	// shows the ticket as the comment left it: a comment's event made after
	// the deletion shows the ticket's last state instead (or, when the
	// deletion fell in an earlier stream batch, is not sent).
	deadline := time.Now().Add(10 * time.Second)
	for len(mine()) < want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := mine(); len(got) != want {
		t.Fatalf("%d deliveries for the ticket %s, want %d", len(got), describe(got), want)
	}
	do(t, "DELETE", api("/tickets/"+id), target.keys.Write, nil).want(t, http.StatusNoContent)
	do(t, "DELETE", api("/deleted_tickets/"+id), target.keys.Admin, nil).want(t, http.StatusNoContent)
	awaitPurged(t, stack, id, 10*time.Second)
	// The purge's records have reached dispatch (nothing is left); give a
	// delivery they caused, wrongly, the time to arrive.
	time.Sleep(time.Second)
	got := mine()
	if len(got) != want {
		t.Fatalf("%d deliveries for the ticket %s after its deletion, want still %d (no comment event for the purge, nor ticket.deleted or ticket.purged, not subscribed)",
			len(got), describe(got), want)
	}

	byType := map[string][]events.Event{}
	comments := map[string]map[string]any{} // data.comment of each event, by event id
	ids := map[string]bool{}
	for _, d := range got {
		ev := verify(t, secret, d)
		ids[ev.ID] = true
		byType[ev.Type] = append(byType[ev.Type], ev)
		var raw struct {
			Data struct {
				Comment map[string]any `json:"comment"`
			} `json:"data"`
		}
		if err := json.Unmarshal(d.body, &raw); err != nil {
			t.Fatal(err)
		}
		comments[ev.ID] = raw.Data.Comment
	}
	counts := fmt.Sprint(len(byType[events.TicketCommentCreated]), len(byType[events.TicketCommentRedacted]), len(byType[events.TicketUpdated]))
	if counts != "3 1 1" || len(ids) != want {
		t.Fatalf("comment.created, comment.redacted, updated: %s (%d ids), want 3 1 1 (%d)", counts, len(ids), want)
	}
	stamp := func(ev events.Event) string { return ev.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z") }

	t.Run("CommentCreated", func(t *testing.T) {
		// Each shows the comment as the API answered it, and the ticket
		// as the comment left it: updatedAt is the comment's createdAt,
		// and only the customer's answer reopened it.
		status := map[string]string{reply["id"].(string): "pending", note["id"].(string): "pending", answer["id"].(string): "open"}
		var seen []string
		for _, ev := range byType[events.TicketCommentCreated] {
			c := comments[ev.ID]
			cid, _ := c["id"].(string)
			made := map[string]map[string]any{reply["id"].(string): reply, note["id"].(string): note, answer["id"].(string): answer}[cid]
			// The reply redacted in the same stream batch as its creation
			// is redacted before its creation is recorded and delivered.
			asRedacted := cid == redacted["id"] && reflect.DeepEqual(c, redacted)
			if made == nil || !reflect.DeepEqual(c, made) && !asRedacted {
				t.Fatalf("%s carries the comment %v, want one of those made (%v), or the redacted reply", ev.ID, c, made)
			}
			seen = append(seen, cid)
			if stamp(ev) != made["createdAt"] || ev.Data.Ticket.UpdatedAt != made["createdAt"] || ev.Data.Ticket.Status != status[cid] {
				t.Fatalf("comment.created of %s at %s shows the ticket %s at %s; want the comment's time %s and status %s",
					cid, stamp(ev), ev.Data.Ticket.Status, ev.Data.Ticket.UpdatedAt, made["createdAt"], status[cid])
			}
		}
		slices.Sort(seen)
		if want := slices.Sorted(slices.Values([]string{reply["id"].(string), note["id"].(string), answer["id"].(string)})); !slices.Equal(seen, want) {
			t.Fatalf("comment.created for %v, want %v", seen, want)
		}
	})
	t.Run("CommentRedacted", func(t *testing.T) {
		ev := byType[events.TicketCommentRedacted][0]
		if c := comments[ev.ID]; !reflect.DeepEqual(c, redacted) || c["body"] != "" {
			t.Fatalf("comment.redacted carries %v, want the redaction's answer %v", c, redacted)
		}
		if stamp(ev) != redacted["redactedAt"] || ev.Data.Ticket.Status != "open" {
			t.Fatalf("comment.redacted at %s with the ticket %+v; want the redaction's time %s", stamp(ev), ev.Data.Ticket, redacted["redactedAt"])
		}
	})
	t.Run("CustomerAnswerReopened", func(t *testing.T) {
		ev := byType[events.TicketUpdated][0]
		if previous(ev) != "map[status:pending]" || ev.Data.Ticket.Status != "open" || ev.Data.Ticket.UpdatedAt != answer["createdAt"] || ev.Data.Comment != nil {
			t.Fatalf("ticket.updated with previous %s shows %+v (comment %v); want status pending → open at the answer's time %s",
				previous(ev), ev.Data.Ticket, ev.Data.Comment, answer["createdAt"])
		}
	})
}
