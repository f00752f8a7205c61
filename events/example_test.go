package events_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/acme/helpdesk/events"
)

// A receiver's handler: it reads the raw body, verifies and decodes it with
// Parse, and acts on the event types it knows.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // from configuration, never from code

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		ev, err := events.Parse(secret, r.Header, body)
		switch {
		case errors.Is(err, events.ErrMissingHeaders), errors.Is(err, events.ErrTimestamp), errors.Is(err, events.ErrSignature):
			http.Error(w, "invalid webhook", http.StatusUnauthorized)
			return
		case err != nil:
			http.Error(w, "cannot handle webhook", http.StatusInternalServerError)
			return
		}
		// A real receiver skips ev.ID values it has already handled here:
		// retries repeat the id.
		switch ev.Type {
		case events.TicketCreated:
			fmt.Println("new ticket", ev.Data.Ticket.ID, ev.Data.Ticket.Subject)
		case events.TicketUpdated:
			fmt.Println("ticket", ev.Data.Ticket.ID, "now", ev.Data.Ticket.Status, "was", ev.Data.Previous["status"])
		case events.TicketAssignmentChanged:
			fmt.Println("ticket", ev.Data.Ticket.ID, "assigned to", *ev.Data.Ticket.AssigneeID)
		case events.TicketDeleted:
			fmt.Println("ticket", ev.Data.Ticket.ID, "deleted")
		case events.TicketCommentCreated:
			// Internal notes are sent too: forward only public replies.
			if ev.Data.Comment.Public {
				fmt.Println("reply on", ev.Data.Ticket.ID+":", ev.Data.Comment.Body)
			}
		default:
			// A type added after this receiver was written: acknowledge it.
		}
		w.WriteHeader(http.StatusNoContent)
	})

	// What the API sends, here delivered to the handler in-process.
	deliver := func(id string, body string, secret string) {
		sent := time.Now()
		sig, err := events.Sign(secret, id, sent, []byte(body))
		if err != nil {
			log.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/webhooks/helpdesk", bytes.NewBufferString(body))
		req.Header.Set(events.HeaderID, id)
		req.Header.Set(events.HeaderTimestamp, strconv.FormatInt(sent.Unix(), 10))
		req.Header.Set(events.HeaderSignature, sig)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println("->", rec.Code)
	}
	deliver("evt_5nwxwizwpweklajt7xyitgvzge",
		`{"id":"evt_5nwxwizwpweklajt7xyitgvzge","type":"ticket.created","timestamp":"2026-11-25T10:00:00.123Z",`+
			`"data":{"ticket":{"id":"tkt_kokoknite3yzp7htixhgxn7w","subject":"Cannot log in","status":"new"}}}`, secret)
	deliver("evt_wi4tzp6ah5vbj5z7r3ky2dz2ly",
		`{"id":"evt_wi4tzp6ah5vbj5z7r3ky2dz2ly","type":"ticket.updated","timestamp":"2026-11-25T10:42:17.456Z",`+
			`"data":{"ticket":{"id":"tkt_kokoknite3yzp7htixhgxn7w","status":"open"},"previous":{"status":"new"}}}`, secret)
	deliver("evt_bk4byz5zi344ede6n3hidwh6ci",
		`{"id":"evt_bk4byz5zi344ede6n3hidwh6ci","type":"ticket.assignment.changed","timestamp":"2026-11-25T10:15:03.789Z",`+
			`"data":{"ticket":{"id":"tkt_kokoknite3yzp7htixhgxn7w","assigneeId":"usr_abc123"},"previous":{"assigneeId":null}}}`, secret)
	deliver("evt_ipyaftdbujdn7jpqwcfzqoocxy",
		`{"id":"evt_ipyaftdbujdn7jpqwcfzqoocxy","type":"ticket.deleted","timestamp":"2026-11-26T09:30:45.012Z",`+
			`"data":{"ticket":{"id":"tkt_kokoknite3yzp7htixhgxn7w"}}}`, secret)
	deliver("evt_q3m7rz2ldvxz4jvd6ahvdwh5ea",
		`{"id":"evt_q3m7rz2ldvxz4jvd6ahvdwh5ea","type":"ticket.comment.created","timestamp":"2026-11-26T09:10:00.000Z",`+
			`"data":{"ticket":{"id":"tkt_kokoknite3yzp7htixhgxn7w"},"comment":{"id":"cmt_06h3d2vplupqklthgl3d48b97k","public":true,"body":"We are on it."}}}`, secret)
	deliver("evt_hyujvt25xlidczynfqhvjwob5h",
		`{"id":"evt_hyujvt25xlidczynfqhvjwob5h","type":"ticket.comment.created","timestamp":"2026-11-26T09:11:00.000Z",`+
			`"data":{"ticket":{"id":"tkt_kokoknite3yzp7htixhgxn7w"},"comment":{"id":"cmt_06h3d2vplupqklthgl3d48b98k","public":false,"body":"VIP."}}}`, secret)
	// Signed with some other secret: rejected before the body is looked at.
	deliver("evt_5nwxwizwpweklajt7xyitgvzge",
		`{"id":"evt_5nwxwizwpweklajt7xyitgvzge","type":"ticket.deleted"}`, events.NewSecret())
	// Output:
	// new ticket tkt_kokoknite3yzp7htixhgxn7w Cannot log in
	// -> 204
	// ticket tkt_kokoknite3yzp7htixhgxn7w now open was new
	// -> 204
	// ticket tkt_kokoknite3yzp7htixhgxn7w assigned to usr_abc123
	// -> 204
	// ticket tkt_kokoknite3yzp7htixhgxn7w deleted
	// -> 204
	// reply on tkt_kokoknite3yzp7htixhgxn7w: We are on it.
	// -> 204
	// -> 204
	// -> 401
}

// The dispatcher's side: sign a body and set the three headers. During a
// secret rotation it signs with both secrets and joins the two signatures
// with a space.
func ExampleSign() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	id := "msg_p5jXN8AQM9LWM0D4loKWxJek"
	sent := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)

	sig, err := events.Sign(secret, id, sent, body)
	if err != nil {
		log.Fatal(err)
	}
	header := http.Header{}
	header.Set(events.HeaderID, id)
	header.Set(events.HeaderTimestamp, strconv.FormatInt(sent.Unix(), 10))
	header.Set(events.HeaderSignature, sig)

	for _, name := range []string{events.HeaderID, events.HeaderTimestamp, events.HeaderSignature} {
		fmt.Printf("%s: %s\n", name, header.Get(name))
	}
	fmt.Println("valid at sending:", events.VerifyAt(secret, header, body, sent) == nil)
	// Output:
	// webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
	// webhook-timestamp: 1614265330
	// webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
	// valid at sending: true
}
