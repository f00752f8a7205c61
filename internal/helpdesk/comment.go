package helpdesk

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on comments.
const (
	// MaxCommentBytes bounds a comment's body, in bytes of UTF-8.
	MaxCommentBytes = 65536
	// MaxCommentsPerTicket is how many comments a ticket takes (Zendesk's
	// cap); the next one is refused with CodeValidation.
	MaxCommentsPerTicket = 5000
)

// Comment is one message of a ticket's conversation: a public reply, or an
// internal note (Public false) that only agents see. Comments are never
// edited or deleted, only redacted: the body is emptied and RedactedAt set,
// and the comment keeps its place.
type Comment struct {
	ID       string
	TicketID string
	Body     string
	Public   bool
	// Exactly one author: an agent (AuthorID) or a customer
	// (AuthorEmail, with an optional AuthorName).
	AuthorID    string
	AuthorEmail string
	AuthorName  string
	CreatedAt   time.Time
	// RedactedAt is zero unless the comment has been redacted.
	RedactedAt time.Time
	// Attachments are the files the comment attached, in the order its
	// request listed their uploads; none once it is redacted.
	Attachments []Attachment
	// ChangedBy is who made the comment's latest write: who wrote it, or
	// who redacted it. It is not shown on the comment; its events name it.
	ChangedBy Actor
}

// Redacted reports whether the comment's body has been removed.
func (c *Comment) Redacted() bool { return !c.RedactedAt.IsZero() }

// FromCustomer reports whether a customer wrote the comment.
func (c *Comment) FromCustomer() bool { return c.AuthorEmail != "" }

// commentIDEncoding keeps ids in the order of their bytes: base32 with the
// "extended hex" alphabet (0–9, a–v), lowercase, sorts as its value does.
var commentIDEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// NewCommentID returns "cmt_" and 26 characters that sort by at (to the
// millisecond) and then by 80 random bits: a conversation read in id order
// is in creation order, and two comments of the same millisecond keep one
// order on every read.
func NewCommentID(at time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMilli())<<16)
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails
	return "cmt_" + commentIDEncoding.EncodeToString(b[:])
}

// ValidCommentID reports whether id has the shape NewCommentID makes. Ids
// of any other shape are answered as not found without a database call.
func ValidCommentID(id string) bool {
	body, ok := strings.CutPrefix(id, "cmt_")
	if !ok || len(body) != 26 {
		return false
	}
	for i := range len(body) {
		if c := body[i]; (c < '0' || c > '9') && (c < 'a' || c > 'v') {
			return false
		}
	}
	return true
}

// CommentDraft is a new comment as a request describes it.
type CommentDraft struct {
	Body   *string
	Public *bool
	// The author fields are absent, null (no author of that kind), or a
	// value, which must then be a valid one: "" is no agent id or address.
	AuthorID    Nullable[string]
	AuthorEmail Nullable[string]
	AuthorName  Nullable[string]
	// Uploads are the ids of the uploads to attach, in order.
	Uploads []string
}

func given(n Nullable[string]) bool { return n.Set && !n.Null }

// Validate records a problem for each bad field under prefix (e.g.
// "comment.").
func (d *CommentDraft) Validate(prefix string, problems *Problems) {
	switch {
	case d.Body == nil:
		if !problems.Has(prefix + "body") {
			problems.Add(prefix+"body", "is required")
		}
	case len(*d.Body) > MaxCommentBytes:
		problems.Add(prefix+"body", "must be at most %d bytes", MaxCommentBytes)
	case strings.TrimSpace(*d.Body) == "":
		problems.Add(prefix+"body", "must not be blank")
	case !utf8.ValidString(*d.Body):
		problems.Add(prefix+"body", "must be valid UTF-8")
	}
	agent, customer := given(d.AuthorID), given(d.AuthorEmail)
	switch {
	case problems.Under(prefix+"authorId") || problems.Under(prefix+"authorEmail"):
	case agent && customer:
		problems.Add(prefix+"authorId", "and authorEmail exclude each other: a comment has one author, an agent or a customer")
	case !agent && !customer:
		problems.Add(prefix+"authorId", "or authorEmail is required: a comment has one author, an agent (authorId) or a customer (authorEmail)")
	case agent && !ValidAssigneeID(d.AuthorID.Value):
		problems.Add(prefix+"authorId", `must start with "usr_", use only letters, digits, ".", "_" and "-", and be at most %d characters`, MaxAssigneeIDLen)
	case customer:
		if msg := checkEmail(d.AuthorEmail.Value); msg != "" {
			problems.Add(prefix+"authorEmail", "%s", msg)
		}
	}
	if given(d.AuthorName) {
		switch {
		case agent:
			problems.Add(prefix+"authorName", "is only for a customer author (authorEmail)")
		case utf8.RuneCountInString(d.AuthorName.Value) > MaxRequesterNameLen:
			problems.Add(prefix+"authorName", "must be at most %d characters", MaxRequesterNameLen)
		}
	}
	if d.Public != nil && !*d.Public && customer {
		problems.Add(prefix+"public", "must be true for a customer's comment: an internal note needs an agent author (authorId)")
	}
	if len(d.Uploads) > MaxAttachmentsPerComment {
		problems.Add(prefix+"uploads", "must hold at most %d upload ids", MaxAttachmentsPerComment)
		return
	}
	for i, id := range d.Uploads {
		field := fmt.Sprintf("%suploads[%d]", prefix, i)
		switch {
		case problems.Has(field):
		case !ValidUploadID(id):
			problems.Add(field, `must be an upload id ("upl_" and 24 characters) from POST /uploads`)
		case slices.Contains(d.Uploads[:i], id):
			problems.Add(field, "%s is listed twice", id)
		}
	}
}

// CommentQuery asks for one page of a ticket's conversation.
type CommentQuery struct {
	TicketID string
	// Order is Asc (oldest first, the default) or Desc.
	Order Order
	// Public, when set, keeps only public replies (true) or only internal
	// notes (false).
	Public   *bool
	PageSize int
	// After is the cursor of the previous page's last comment.
	After string
}

// CommentPage is one page of a conversation; Next is the cursor of the
// following page, or "" on the last.
type CommentPage struct {
	Comments []*Comment
	Next     string
}

// ErrTicketClosed answers a comment on a closed ticket.
var ErrTicketClosed = Errorf(CodeConflict, "The ticket is closed; a closed ticket takes no new comments.")

// ErrTooManyComments answers the comment after MaxCommentsPerTicket.
var ErrTooManyComments = &Error{Code: CodeValidation, Message: "The ticket has reached its comment limit.",
	Details: []FieldError{{Field: "comment", Message: fmt.Sprintf("a ticket takes at most %d comments", MaxCommentsPerTicket)}}}

// CommentStore keeps the comments of tickets.
type CommentStore interface {
	// AddComment stores c and, in the same atomic write, its ticket as
	// the comment changed it (t, still at the version read, which the
	// store moves on as UpdateTicket does), and done when it is not nil;
	// it marks each attachment's upload attached to c, on condition that
	// it exists, is unattached and unexpired at c.CreatedAt.
	// CodeNotFound if the ticket is gone; ErrTicketMoved if it was written
	// since it was read; CodeValidation naming each upload that can no
	// longer be attached (UploadProblems).
	AddComment(ctx context.Context, c *Comment, t *Ticket, done *Completion) error
	// Comment returns a comment of a ticket. CodeNotFound if the ticket or
	// the comment does not exist.
	Comment(ctx context.Context, ticketID, commentID string) (*Comment, error)
	// ListComments returns one page of a ticket's conversation.
	// CodeNotFound if the ticket does not exist; CodeBadRequest for a
	// cursor that is malformed, tampered with, or issued for another query.
	ListComments(ctx context.Context, q CommentQuery) (*CommentPage, error)
	// RedactComment empties a comment's body and sets its RedactedAt and
	// ChangedBy from redaction, and drops its attachments (whose bytes
	// the stream's consumer then discards), unless it is redacted already,
	// and returns it as stored. CodeNotFound if the ticket or the comment does not
	// exist.
	RedactComment(ctx context.Context, ticketID, commentID string, redaction Stamp) (*Comment, error)
}

// ErrTicketMoved answers a write conditional on a ticket's version when
// another write came first: the caller reads the ticket again and retries.
var ErrTicketMoved = Errorf(CodeConflict, "The ticket is being changed by other requests; retry.")
