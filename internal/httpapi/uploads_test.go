package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/filestore"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
)

// upload asks for an upload of fields and returns it.
func (e *env) upload(fields map[string]any) map[string]any {
	e.tb.Helper()
	res := e.do("POST", base+"/uploads", helpdesk.PermWrite, map[string]any{"upload": fields})
	res.want(e.tb, http.StatusCreated, "")
	u, ok := res.body["upload"].(map[string]any)
	if !ok {
		e.tb.Fatalf("no upload in %s", res.raw)
	}
	return u
}

// exists reports whether the bucket holds key.
func (e *env) exists(key string) bool {
	e.tb.Helper()
	_, err := e.files.Client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(e.files.Bucket), Key: aws.String(key)})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "NotFound" {
		return false
	}
	if err != nil {
		e.tb.Fatal(err)
	}
	return true
}

// TestAttachmentFlow is the path of a file: an upload asked for, its bytes
// sent straight to S3 (which refuses any other size or type), attached to
// a comment, downloaded through the comment's link, and refused a second
// time.
func TestAttachmentFlow(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "The invoice is wrong"})["id"].(string)
	data := []byte("line 1\nline 2\n")
	before := time.Now()
	u := e.upload(map[string]any{"filename": "printer log.txt", "contentType": "text/plain; charset=utf-8", "size": len(data)})
	uploadID := u["id"].(string)
	switch {
	case !helpdesk.ValidUploadID(uploadID):
		t.Fatalf("upload id %q", uploadID)
	case u["contentType"] != "text/plain" || u["filename"] != "printer log.txt" || u["size"] != float64(len(data)) || u["uploadMethod"] != "PUT":
		t.Fatalf("upload %v", u)
	case u["uploadHeaders"].(map[string]any)["Content-Length"] != strconv.Itoa(len(data)):
		t.Fatalf("upload headers %v", u["uploadHeaders"])
	}
	expires, err := time.Parse(time.RFC3339, u["expiresAt"].(string))
	if err != nil || expires.Before(before.Add(helpdesk.UploadValidity-time.Second)) || expires.After(time.Now().Add(helpdesk.UploadValidity)) {
		t.Fatalf("expiresAt %v (%v)", u["expiresAt"], err)
	}

	path := base + "/tickets/" + id + "/comments"
	e.do("POST", path, helpdesk.PermWrite, map[string]any{"comment": map[string]any{"body": "log", "authorId": "usr_a", "uploads": []string{uploadID}}}).
		want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "comment.uploads[0]")
	for name, tc := range map[string]struct {
		body        []byte
		contentType string
	}{
		"OneByteOver":  {append(append([]byte{}, data...), 'x'), ""},
		"OneByteUnder": {data[:len(data)-1], ""},
		"OtherType":    {data, "text/html"},
	} {
		if status := dynamotest.SendUpload(t, u, tc.body, tc.contentType); status != http.StatusForbidden {
			t.Fatalf("%s: S3 answered %d, want 403", name, status)
		}
	}
	if e.exists(filestore.UploadKey(uploadID)) {
		t.Fatal("S3 kept bytes it refused")
	}
	if status := dynamotest.SendUpload(t, u, data, ""); status != http.StatusOK {
		t.Fatalf("the upload's own request: %d", status)
	}

	res := e.do("POST", path, helpdesk.PermWrite, map[string]any{"comment": map[string]any{"body": "Here is the log.", "authorId": "usr_a", "uploads": []string{uploadID}}})
	res.want(t, http.StatusCreated, "")
	c := res.comment(t)
	atts := c["attachments"].([]any)
	if len(atts) != 1 {
		t.Fatalf("attachments %v", c["attachments"])
	}
	att := atts[0].(map[string]any)
	if !strings.HasPrefix(att["id"].(string), "att_") || att["filename"] != "printer log.txt" || att["contentType"] != "text/plain" || att["size"] != float64(len(data)) {
		t.Fatalf("attachment %v", att)
	}
	got, body := dynamotest.Download(t, att["url"].(string))
	if got.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("download: %d %q", got.StatusCode, body)
	}
	if cd := got.Header.Get("Content-Disposition"); cd != `attachment; filename="printer log.txt"` {
		t.Fatalf("Content-Disposition %q", cd)
	}
	if ct := got.Header.Get("Content-Type"); ct != "text/plain" {
		t.Fatalf("Content-Type %q", ct)
	}
	if e.exists(filestore.UploadKey(uploadID)) {
		t.Fatal("the upload's own bytes outlived its attachment")
	}

	read := e.do("GET", path+"/"+c["id"].(string), helpdesk.PermRead, nil)
	read.want(t, http.StatusOK, "")
	again := read.comment(t)["attachments"].([]any)[0].(map[string]any)
	if got, body := dynamotest.Download(t, again["url"].(string)); got.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("download after a read: %d %q", got.StatusCode, body)
	}
	list := e.do("GET", path, helpdesk.PermRead, nil)
	list.want(t, http.StatusOK, "")
	if n := len(list.body["comments"].([]any)[0].(map[string]any)["attachments"].([]any)); n != 1 {
		t.Fatalf("the listed comment has %d attachments", n)
	}

	res = e.do("POST", path, helpdesk.PermWrite, map[string]any{"comment": map[string]any{"body": "again", "authorId": "usr_a", "uploads": []string{uploadID}}})
	res.want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "comment.uploads[0]")
	if !strings.Contains(string(res.raw), "attached to a comment already") {
		t.Fatalf("reuse: %s", res.raw)
	}

	redacted := e.do("POST", path+"/"+c["id"].(string)+"/redact", helpdesk.PermWrite, nil)
	redacted.want(t, http.StatusOK, "")
	if n := len(redacted.comment(t)["attachments"].([]any)); n != 0 {
		t.Fatalf("a redacted comment shows %d attachments", n)
	}
	// The refused reuse wrote no comment: the conversation holds the one.
	if n := len(e.do("GET", path, helpdesk.PermRead, nil).body["comments"].([]any)); n != 1 {
		t.Fatalf("the conversation holds %d comments, want 1", n)
	}
}

// TestAttachRefusals: each upload a comment cannot attach is named, and
// the comment is not written, nor any upload marked.
func TestAttachRefusals(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "Refusals"})["id"].(string)
	path := base + "/tickets/" + id + "/comments"
	good := e.upload(map[string]any{"filename": "a.png", "contentType": "image/png", "size": 3})
	if status := dynamotest.SendUpload(t, good, []byte{1, 2, 3}, ""); status != http.StatusOK {
		t.Fatalf("send: %d", status)
	}
	unsent := e.upload(map[string]any{"filename": "b.png", "contentType": "image/png", "size": 3})
	now := time.Now().UTC().Truncate(time.Millisecond)
	expired := &helpdesk.Upload{ID: helpdesk.NewUploadID(), Filename: "old.pdf", ContentType: "application/pdf", Size: 3,
		CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour), CreatedBy: helpdesk.System}
	if err := e.clean.PutUpload(context.Background(), expired, nil); err != nil {
		t.Fatal(err)
	}
	missing := helpdesk.NewUploadID()

	comment := func(uploads ...string) map[string]any {
		return map[string]any{"comment": map[string]any{"body": "files", "authorId": "usr_a", "uploads": uploads}}
	}
	res := e.do("POST", path, helpdesk.PermWrite, comment(good["id"].(string), unsent["id"].(string), expired.ID, missing))
	res.want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "comment.uploads[1]", "comment.uploads[2]", "comment.uploads[3]")
	for _, want := range []string{"has no bytes yet", "expired at", "does not exist"} {
		if !strings.Contains(string(res.raw), want) {
			t.Errorf("no %q in %s", want, res.raw)
		}
	}
	shape := e.do("POST", path, helpdesk.PermWrite, comment("upl_nope", good["id"].(string), good["id"].(string)))
	shape.want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "comment.uploads[0]", "comment.uploads[2]")
	many := make([]string, helpdesk.MaxAttachmentsPerComment+1)
	for i := range many {
		many[i] = helpdesk.NewUploadID()
	}
	e.do("POST", path, helpdesk.PermWrite, comment(many...)).want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "comment.uploads")
	e.do("POST", path, helpdesk.PermWrite, `{"comment": {"body": "x", "authorId": "usr_a", "uploads": "upl_x"}}`).
		want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "comment.uploads")
	e.do("POST", path, helpdesk.PermWrite, `{"comment": {"body": "x", "authorId": "usr_a", "attachments": []}}`).
		want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "comment.attachments")

	if n := len(e.do("GET", path, helpdesk.PermRead, nil).body["comments"].([]any)); n != 0 {
		t.Fatalf("refused comments wrote %d", n)
	}
	// Nothing was marked: the good upload still attaches.
	e.do("POST", path, helpdesk.PermWrite, comment(good["id"].(string))).want(t, http.StatusCreated, "")
}

// TestUploadValidation: every malformed upload is 422 naming its field,
// and writes nothing; a type off the allow-list is kept as opaque bytes.
func TestUploadValidation(t *testing.T) {
	e, _ := newAPI(t)
	valid := func() map[string]any {
		return map[string]any{"filename": "a.pdf", "contentType": "application/pdf", "size": 10}
	}
	cases := map[string]struct {
		change func(map[string]any)
		field  string
	}{
		"Slash":           {func(u map[string]any) { u["filename"] = "../etc/passwd" }, "upload.filename"},
		"Backslash":       {func(u map[string]any) { u["filename"] = `C:\boot.ini` }, "upload.filename"},
		"DotDot":          {func(u map[string]any) { u["filename"] = ".." }, "upload.filename"},
		"Control":         {func(u map[string]any) { u["filename"] = "a\x00.pdf" }, "upload.filename"},
		"RightToLeft":     {func(u map[string]any) { u["filename"] = "invoice\u202efdp.exe" }, "upload.filename"},
		"Blank":           {func(u map[string]any) { u["filename"] = "  " }, "upload.filename"},
		"LongName":        {func(u map[string]any) { u["filename"] = strings.Repeat("é", helpdesk.MaxFilenameLen+1) }, "upload.filename"},
		"NoName":          {func(u map[string]any) { delete(u, "filename") }, "upload.filename"},
		"NullName":        {func(u map[string]any) { u["filename"] = nil }, "upload.filename"},
		"Empty":           {func(u map[string]any) { u["size"] = 0 }, "upload.size"},
		"TooLarge":        {func(u map[string]any) { u["size"] = helpdesk.MaxUploadSize + 1 }, "upload.size"},
		"Fraction":        {func(u map[string]any) { u["size"] = 1.5 }, "upload.size"},
		"SizeString":      {func(u map[string]any) { u["size"] = "10" }, "upload.size"},
		"NoSize":          {func(u map[string]any) { delete(u, "size") }, "upload.size"},
		"BadType":         {func(u map[string]any) { u["contentType"] = "pdf" }, "upload.contentType"},
		"TypeParamBroken": {func(u map[string]any) { u["contentType"] = "text/plain; charset" }, "upload.contentType"},
		"NoType":          {func(u map[string]any) { delete(u, "contentType") }, "upload.contentType"},
		"ReadOnly":        {func(u map[string]any) { u["uploadUrl"] = "https://example.com" }, "upload.uploadUrl"},
		"Unknown":         {func(u map[string]any) { u["owner"] = "me" }, "upload.owner"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			u := valid()
			tc.change(u)
			e.do("POST", base+"/uploads", helpdesk.PermWrite, map[string]any{"upload": u}).
				want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, tc.field)
		})
	}
	t.Run("LongestName", func(t *testing.T) {
		u := valid()
		u["filename"] = strings.Repeat("é", helpdesk.MaxFilenameLen)
		if got := e.upload(u)["filename"]; got != u["filename"] {
			t.Fatalf("filename %v", got)
		}
	})
	for declared, stored := range map[string]string{"text/html": helpdesk.OctetStream, "image/svg+xml": helpdesk.OctetStream, "IMAGE/PNG": "image/png", "text/csv; header=present": "text/csv"} {
		t.Run("Stored "+declared, func(t *testing.T) {
			u := valid()
			u["contentType"] = declared
			if got := e.upload(u); got["contentType"] != stored || got["uploadHeaders"].(map[string]any)["Content-Type"] != stored {
				t.Fatalf("stored as %v", got)
			}
		})
	}
	e.do("POST", base+"/uploads", helpdesk.PermRead, map[string]any{"upload": valid()}).want(t, http.StatusForbidden, helpdesk.CodeForbidden)
}

// TestUploadIdempotent: a retried upload with the same Idempotency-Key is
// the same upload, with the same request.
func TestUploadIdempotent(t *testing.T) {
	e, _ := newAPI(t)
	h := http.Header{"Idempotency-Key": {"upload-1"}}
	body := map[string]any{"upload": map[string]any{"filename": "a.pdf", "contentType": "application/pdf", "size": 10}}
	first := e.doHeader("POST", base+"/uploads", e.keys[helpdesk.PermWrite], h, body)
	first.want(t, http.StatusCreated, "")
	again := e.doHeader("POST", base+"/uploads", e.keys[helpdesk.PermWrite], h, body)
	again.want(t, http.StatusCreated, "")
	if again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(first.raw, again.raw) {
		t.Fatalf("replay %s: %s", again.header.Get("Idempotent-Replayed"), again.raw)
	}
}

// TestStoredContentTypes: the contract's list of stored types is the
// allow-list the code keeps.
func TestStoredContentTypes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				StoredContentType struct {
					Enum []string `json:"enum"`
				}
			}
		}
	}
	if err := json.Unmarshal(httpapi.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(doc.Components.Schemas.StoredContentType.Enum))
	if want := slices.Sorted(slices.Values(helpdesk.ContentTypes)); !slices.Equal(got, want) {
		t.Fatalf("StoredContentType %v, the code's %v", got, want)
	}
}
