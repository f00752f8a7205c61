package local_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// putFile sends body to an upload's presigned request, as curl
// --upload-file does, and returns S3's status.
func putFile(t *testing.T, upload map[string]any, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(upload["uploadMethod"].(string), upload["uploadUrl"].(string), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", upload["uploadHeaders"].(map[string]any)["Content-Type"].(string))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// fetch gets a URL without a key and returns the status and body.
func fetch(t *testing.T, url string) (int, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, body
}

// attach uploads data as name to a new comment on ticket id, through the
// whole stack, and returns the comment.
func (s *stack) attach(id, name string, data []byte) map[string]any {
	s.t.Helper()
	status, body := s.call("POST", "/uploads", helpdesk.PermWrite, fmt.Sprintf(`{"upload":{"filename":%q,"contentType":"image/png","size":%d}}`, name, len(data)))
	if status != http.StatusCreated {
		s.t.Fatalf("upload: %d %v", status, body)
	}
	upload := body["upload"].(map[string]any)
	if status := putFile(s.t, upload, append(append([]byte{}, data...), 0)); status != http.StatusForbidden {
		s.t.Fatalf("S3 took one byte more than declared: %d", status)
	}
	if status := putFile(s.t, upload, data); status != http.StatusOK {
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
	if status, body := fetch(t, att["url"].(string)); status != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("download: %d %q", status, body)
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
		status, _ := fetch(t, att["url"].(string))
		return status == http.StatusNotFound
	})

	purged := s.attach(purgedID, "invoice.png", data)
	purgedURL := purged["attachments"].([]any)[0].(map[string]any)["url"].(string)
	if status, _ := s.call("DELETE", "/tickets/"+purgedID, helpdesk.PermWrite, ""); status != http.StatusNoContent {
		t.Fatalf("delete: %d", status)
	}
	if status, _ := fetch(t, purgedURL); status != http.StatusOK {
		t.Fatalf("a trashed ticket's file, which a restore brings back, is gone: %d", status)
	}
	if status, body := s.call("DELETE", "/deleted_tickets/"+purgedID, helpdesk.PermAdmin, ""); status != http.StatusNoContent {
		t.Fatalf("purge: %d %v", status, body)
	}
	eventually(t, "the purged ticket's file deleted", func() bool {
		status, _ := fetch(t, purgedURL)
		return status == http.StatusNotFound
	})
}
