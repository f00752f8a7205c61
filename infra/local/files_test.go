package local_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// attach uploads data as name to a new comment on ticket id, through the
// whole stack, and returns the comment.
func (s *stack) attach(id, name string, data []byte) map[string]any {
	s.t.Helper()
	status, body := s.call("POST", "/uploads", helpdesk.PermWrite, fmt.Sprintf(`{"upload":{"filename":%q,"contentType":"image/png","size":%d}}`, name, len(data)))
	if status != http.StatusCreated {
		s.t.Fatalf("upload: %d %v", status, body)
	}
	upload := body["upload"].(map[string]any)
	if status := dynamotest.SendUpload(s.t, upload, append(append([]byte{}, data...), 0), ""); status != http.StatusForbidden {
		s.t.Fatalf("S3 took one byte more than declared: %d", status)
	}
	if status := dynamotest.SendUpload(s.t, upload, data, ""); status != http.StatusOK {
		s.t.Fatalf("S3 refused the declared bytes: %d", status)
	}
	status, body = s.call("POST", "/tickets/"+id+"/comments", helpdesk.PermWrite, fmt.Sprintf(`{"comment":{"body":"see the file","authorId":"usr_a","uploads":[%q]}}`, upload["id"]))
	if status != http.StatusCreated {
		s.t.Fatalf("comment: %d %v", status, body)
	}
	return body["comment"].(map[string]any)
}

// TestAttachmentsEndToEnd runs attachments through the whole local stack:
// the S3 server holds the bytes and checks the presigned requests, the
// comment's event carries the attachment's metadata, and the stream's
// consumer deletes the bytes of a redacted comment's attachments and of a
// purged ticket's.
func TestAttachmentsEndToEnd(t *testing.T) {
	s := startStack(t)
	hooks := newReceiver(t, ok)
	_, secret := s.subscribe(hooks.srv.URL, events.TicketCommentCreated)
	ticket := func(subject string) string {
		_, body := s.call("POST", "/tickets", helpdesk.PermWrite, fmt.Sprintf(`{"ticket":{"subject":%q}}`, subject))
		return body["ticket"].(map[string]any)["id"].(string)
	}
	redactedID, purgedID := ticket("Screenshot of the error"), ticket("Old invoice")
	data := []byte("\x89PNG\r\n\x1a\nnot really a picture")

	c := s.attach(redactedID, "error.png", data)
	att := c["attachments"].([]any)[0].(map[string]any)
	if res, body := dynamotest.Download(t, att["url"].(string)); res.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("download: %d %q", res.StatusCode, body)
	}
	d := hooks.wait(t, 1, 10*time.Second)[0]
	verify(t, secret, d)
	if got := d.event.Data.Comment.Attachments; len(got) != 1 || got[0].ID != att["id"] || got[0].Filename != "error.png" || got[0].Size != int64(len(data)) || got[0].URL != "" {
		t.Fatalf("the event's attachments %+v", got)
	}

	if status, _ := s.call("POST", "/tickets/"+redactedID+"/comments/"+c["id"].(string)+"/redact", helpdesk.PermWrite, ""); status != http.StatusOK {
		t.Fatalf("redact: %d", status)
	}
	eventually(t, "the redacted comment's file deleted", func() bool {
		res, _ := dynamotest.Download(t, att["url"].(string))
		return res.StatusCode == http.StatusNotFound
	})

	purged := s.attach(purgedID, "invoice.png", data)
	purgedURL := purged["attachments"].([]any)[0].(map[string]any)["url"].(string)
	if status, _ := s.call("DELETE", "/tickets/"+purgedID, helpdesk.PermWrite, ""); status != http.StatusNoContent {
		t.Fatalf("delete: %d", status)
	}
	if res, _ := dynamotest.Download(t, purgedURL); res.StatusCode != http.StatusOK {
		t.Fatalf("a trashed ticket's file, which a restore brings back, is gone: %d", res.StatusCode)
	}
	if status, body := s.call("DELETE", "/deleted_tickets/"+purgedID, helpdesk.PermAdmin, ""); status != http.StatusNoContent {
		t.Fatalf("purge: %d %v", status, body)
	}
	eventually(t, "the purged ticket's file deleted", func() bool {
		res, _ := dynamotest.Download(t, purgedURL)
		return res.StatusCode == http.StatusNotFound
	})
}
