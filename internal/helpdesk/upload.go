package helpdesk

import (
	"context"
	"fmt"
	"mime"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits and lifetimes of uploads and attachments.
const (
	// MaxUploadSize is the largest file an upload takes, in bytes (25 MiB).
	MaxUploadSize = 25 << 20
	// MaxFilenameLen bounds a file's name, in characters.
	MaxFilenameLen = 255
	// MaxContentTypeLen bounds a declared content type, in bytes.
	MaxContentTypeLen = 255
	// MaxAttachmentsPerComment is how many uploads one comment attaches.
	MaxAttachmentsPerComment = 10
	// UploadValidity is how long an upload's presigned request is valid,
	// and so how long the upload can be attached.
	UploadValidity = 60 * time.Minute
	// UploadRetention is when an upload that was never attached is
	// removed: its record by the table's TTL, its bytes by the bucket's
	// lifecycle rule.
	UploadRetention = 24 * time.Hour
	// DownloadValidity is how long an attachment's URL is valid; a new one
	// is issued each time the comment is read.
	DownloadValidity = 15 * time.Minute
	// MaxLinkLen bounds a presigned URL the API gives. The longest is the
	// download of a file named with 255 four-byte characters, signed with
	// a function's session token: about 7,000 bytes (filestore's tests
	// sign it).
	MaxLinkLen = 8192
)

// OctetStream is the content type of a file whose declared type is not on
// ContentTypes: it is stored and served as opaque bytes.
const OctetStream = "application/octet-stream"

// ContentTypes is the allow-list of content types a file keeps as
// declared; any other well-formed type is stored as OctetStream, so that
// no uploaded file is served as HTML, SVG or script. Parameters (such as
// charset) are dropped.
var ContentTypes = []string{
	"application/gzip",
	"application/json",
	"application/msword",
	"application/pdf",
	"application/vnd.ms-excel",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/zip",
	OctetStream,
	"audio/mpeg",
	"image/gif",
	"image/jpeg",
	"image/png",
	"image/webp",
	"message/rfc822",
	"text/csv",
	"text/plain",
	"video/mp4",
}

// Upload is a file a client is sending, or has sent, straight to the file
// store with a presigned request, before a comment attaches it.
type Upload struct {
	ID          string
	Filename    string
	ContentType string
	Size        int64
	CreatedAt   time.Time
	// ExpiresAt is when the presigned request stops working, and the
	// upload can no longer be attached (CreatedAt + UploadValidity).
	ExpiresAt time.Time
	// AttachedTo is the comment that attached it, or "".
	AttachedTo string
	// CreatedBy is who asked for it.
	CreatedBy Actor
}

// UploadRequest is the presigned request that sends an upload's bytes:
// Method to URL with exactly Headers.
type UploadRequest struct {
	URL     string
	Method  string
	Headers map[string]string
}

// Attachment is a file on a comment: an upload the comment attached,
// copied to where the comment's files are kept.
type Attachment struct {
	ID          string
	Filename    string
	ContentType string
	Size        int64
	// UploadID is the upload it was copied from. It is not shown.
	UploadID string
}

// Link is a presigned URL and when it stops working.
type Link struct {
	URL       string
	ExpiresAt time.Time
}

// NewUploadID returns a new upload id: "upl_" and 24 random characters.
func NewUploadID() string { return NewID("upl_") }

// ValidUploadID reports whether id has the shape NewUploadID makes.
func ValidUploadID(id string) bool { return HasIDShape(id, "upl_", 24, 24) }

// NewAttachmentID returns a new attachment id: "att_" and 24 random
// characters.
func NewAttachmentID() string { return NewID("att_") }

// UploadDraft is a new upload as a request describes it.
type UploadDraft struct {
	Filename    *string
	ContentType *string
	Size        *int64
}

// Validate records a problem for each bad field under prefix (e.g.
// "upload."), and returns the content type the file will be stored with:
// the declared one, without parameters, when it is on ContentTypes, and
// OctetStream otherwise.
func (d *UploadDraft) Validate(prefix string, problems *Problems) string {
	if d.Filename == nil {
		addOnce(problems, prefix+"filename", "is required")
	} else if msg := checkFilename(*d.Filename); msg != "" {
		problems.Add(prefix+"filename", "%s", msg)
	}
	switch {
	case d.Size == nil:
		addOnce(problems, prefix+"size", "is required")
	case *d.Size < 1 || *d.Size > MaxUploadSize:
		problems.Add(prefix+"size", "must be a whole number of bytes from 1 to %d (25 MiB)", MaxUploadSize)
	}
	if d.ContentType == nil {
		addOnce(problems, prefix+"contentType", "is required")
		return ""
	}
	stored, msg := storedContentType(*d.ContentType)
	if msg != "" {
		problems.Add(prefix+"contentType", "%s", msg)
	}
	return stored
}

// addOnce records field's problem unless the decoder recorded one.
func addOnce(problems *Problems, field, msg string) {
	if !problems.Has(field) {
		problems.Add(field, "%s", msg)
	}
}

// checkFilename says what is wrong with a file name, or "". A name is
// shown to agents and sent back in Content-Disposition: it must be a
// plain name, not a path, and print as it reads.
func checkFilename(name string) string {
	switch {
	case !utf8.ValidString(name):
		return "must be valid UTF-8"
	case strings.TrimSpace(name) == "":
		return "must not be blank"
	case utf8.RuneCountInString(name) > MaxFilenameLen:
		return "must be at most 255 characters"
	case name == "." || name == "..":
		return `must not be "." or ".."`
	case strings.ContainsAny(name, `/\`):
		return "must be a file name, not a path: no / or \\"
	case strings.IndexFunc(name, unsafeRune) >= 0:
		return "must not hold control or formatting characters"
	}
	return ""
}

// unsafeRune reports control characters (C0, DEL, C1) and invisible
// formatting ones, such as the right-to-left override that makes
// "txt.exe" read as "exe.txt".
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// storedContentType parses a declared content type and returns the one
// the file is stored with, or a problem.
func storedContentType(declared string) (string, string) {
	if len(declared) > MaxContentTypeLen {
		return "", "must be at most 255 bytes"
	}
	mediaType, _, err := mime.ParseMediaType(declared)
	if err != nil || !strings.Contains(mediaType, "/") {
		return "", `must be a media type such as "image/png"`
	}
	if slices.Contains(ContentTypes, mediaType) {
		return mediaType, ""
	}
	return OctetStream, ""
}

// UploadProblem is one upload a comment cannot attach: the index of its
// id in the comment's uploads, and why.
type UploadProblem struct {
	Index   int
	Message string
}

// UploadProblems is the CodeValidation error naming each upload a comment
// cannot attach, as comment.uploads[i].
func UploadProblems(list []UploadProblem) error {
	var problems Problems
	for _, p := range list {
		problems.Add(fmt.Sprintf("comment.uploads[%d]", p.Index), "%s", p.Message)
	}
	return problems.Err()
}

// ErrNoFiles answers an upload, or a comment with uploads, when the
// deployment has no file store.
var ErrNoFiles = Errorf(CodeUnavailable, "Attachments are not available: this deployment has no file store.")

// UploadStore keeps the records of uploads.
type UploadStore interface {
	// PutUpload stores a new upload, with done's completion when it is
	// not nil, and keeps it until UploadRetention after its creation.
	PutUpload(ctx context.Context, u *Upload, done *Completion) error
	// Uploads returns the uploads of ids that exist and are within their
	// retention, strongly consistent, in no particular order.
	Uploads(ctx context.Context, ids []string) ([]*Upload, error)
}

// FileStore keeps file bytes: uploads, sent straight to it with presigned
// requests, and the attachments copied from them.
type FileStore interface {
	// PresignUpload returns the request that sends u's bytes: valid until
	// u.ExpiresAt, for exactly u.Size bytes of u.ContentType.
	PresignUpload(ctx context.Context, u *Upload) (UploadRequest, error)
	// UploadedSize returns the size of an upload's bytes, and false when
	// none have arrived.
	UploadedSize(ctx context.Context, uploadID string) (int64, bool, error)
	// Keep copies an upload's bytes to the attachment a of ticketID.
	Keep(ctx context.Context, uploadID, ticketID string, a Attachment) error
	// DiscardUpload removes an upload's bytes.
	DiscardUpload(ctx context.Context, uploadID string) error
	// Discard removes the bytes of the attachments ids of ticketID; ids
	// already gone are no error.
	Discard(ctx context.Context, ticketID string, ids []string) error
	// DownloadLink returns a URL that downloads a, valid for
	// DownloadValidity, that a browser saves as a file named a.Filename
	// and never renders.
	DownloadLink(ctx context.Context, ticketID string, a Attachment) (Link, error)
}

// Uploads carries out the upload operation: a presigned request for a
// file, to attach to a comment once sent.
type Uploads struct {
	Store UploadStore
	// Files is nil when the deployment has no file store.
	Files FileStore
	// Now is the clock.
	Now Clock
}

// Create validates d, records the upload with complete's completion when
// it is not nil, and returns it with its presigned request.
func (s *Uploads) Create(ctx context.Context, d *UploadDraft, problems Problems, complete Complete[*NewUpload]) (*NewUpload, error) {
	contentType := d.Validate("upload.", &problems)
	if err := problems.Err(); err != nil {
		return nil, err
	}
	if s.Files == nil {
		return nil, ErrNoFiles
	}
	at := s.Now.Now()
	u := &Upload{ID: NewUploadID(), Filename: *d.Filename, ContentType: contentType, Size: *d.Size,
		// Presigned requests are signed to the second.
		CreatedAt: at, ExpiresAt: at.Truncate(time.Second).Add(UploadValidity), CreatedBy: ActorOf(ctx)}
	req, err := s.Files.PresignUpload(ctx, u)
	if err != nil {
		return nil, err
	}
	n := &NewUpload{Upload: u, Request: req}
	if err := s.Store.PutUpload(ctx, u, complete.Of(n)); err != nil {
		return nil, err
	}
	return n, nil
}

// NewUpload is a new upload and the request that sends its bytes.
type NewUpload struct {
	*Upload
	Request UploadRequest
}
