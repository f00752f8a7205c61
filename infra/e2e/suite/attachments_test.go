package suite_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/dynamotest"
)

// TestAttachments runs a file through the comments and dispatch binaries:
// POST /uploads presigns a PUT that the storage holds to the declared
// size, the comment attaches the sent bytes, its link downloads them as a
// file to save, a second attach is refused, and redacting the comment
// has the dispatch function delete the bytes.
func TestAttachments(t *testing.T) {
	needTarget(t)
	id := createTicket(t, map[string]any{"subject": "Attachments " + unique()})["id"].(string)
	data := []byte("%PDF-1.7 invoice for November\n")
	upload := do(t, "POST", api("/uploads"), target.keys.Write, map[string]any{"upload": map[string]any{
		"filename": "invoice 11.pdf", "contentType": "application/pdf", "size": len(data)}}).want(t, http.StatusCreated).object(t, "upload")
	if status := dynamotest.SendUpload(t, upload, append(append([]byte{}, data...), '\n'), ""); status != http.StatusForbidden {
		t.Fatalf("one byte over the declared size: %d, want 403", status)
	}
	addComment(t, id, map[string]any{"body": "too early", "authorId": "usr_e2e", "uploads": []any{upload["id"]}}).
		wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "comment.uploads[0]")
	if status := dynamotest.SendUpload(t, upload, data, ""); status != http.StatusOK {
		t.Fatalf("the declared bytes: %d", status)
	}
	c := addComment(t, id, map[string]any{"body": "The invoice.", "authorId": "usr_e2e", "uploads": []any{upload["id"]}}).
		want(t, http.StatusCreated).object(t, "comment")
	att := c["attachments"].([]any)[0].(map[string]any)
	res, body := dynamotest.Download(t, att["url"].(string))
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, data) || res.Header.Get("Content-Disposition") != `attachment; filename="invoice 11.pdf"` {
		t.Fatalf("download: %d %q %q", res.StatusCode, res.Header.Get("Content-Disposition"), body)
	}
	addComment(t, id, map[string]any{"body": "again", "authorId": "usr_e2e", "uploads": []any{upload["id"]}}).
		wantError(t, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "comment.uploads[0]")

	do(t, "POST", commentsURL(id, c["id"].(string), "redact"), target.keys.Write, nil).want(t, http.StatusOK)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if res, _ := dynamotest.Download(t, att["url"].(string)); res.StatusCode == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the redacted comment's file is still there after 30 s")
		}
	}
}
