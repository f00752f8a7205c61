package helpdesk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Conversations carries out the comment operations: a ticket's public
// replies and internal notes.
type Conversations struct {
	Tickets  TicketStore
	Comments CommentStore
	// Uploads and Files are where attachments come from; with Files nil,
	// a comment with uploads is answered ErrNoFiles.
	Uploads UploadStore
	Files   FileStore
	// Now is the clock, read once per write attempt.
	Now Clock
}

// NewConversations returns Conversations on the given stores with the real
// clock.
func NewConversations(tickets TicketStore, comments CommentStore) *Conversations {
	return &Conversations{Tickets: tickets, Comments: comments}
}

var (
	errCommentNotFound = Errorf(CodeNotFound, "Comment not found.")
	errNoTicket        = Errorf(CodeNotFound, "Ticket not found.")
)

// maxCommentAttempts bounds the retries of a comment whose ticket keeps
// changing under it before it answers CodeConflict.
const maxCommentAttempts = 8

// AddComment validates d and adds it to the ticket's conversation, with
// complete's completion when it is not nil. The comment is activity on the
// ticket: the ticket's UpdatedAt becomes the comment's CreatedAt (and so
// its ETag changes), and a customer's comment on a pending or resolved
// ticket reopens it. A closed ticket takes no comments (ErrTicketClosed),
// nor one past MaxCommentsPerTicket (ErrTooManyComments). The comment and
// the ticket's change are written together or not at all. It returns the
// comment and the ticket as stored.
func (s *Conversations) AddComment(ctx context.Context, ticketID string, d *CommentDraft, problems Problems, complete Complete[*Comment]) (*Comment, *Ticket, error) {
	d.Validate("comment.", &problems)
	if !ValidTicketID(ticketID) {
		return nil, nil, errNoTicket
	}
	if err := problems.Err(); err != nil {
		return nil, nil, err
	}
	if len(d.Uploads) > 0 && s.Files == nil {
		return nil, nil, ErrNoFiles
	}
	var attachments []Attachment
	c, t, err := s.addComment(ctx, ticketID, d, &attachments, complete)
	if err != nil {
		if len(attachments) > 0 && refused(err) {
			s.discard(ctx, ticketID, attachments)
		}
		return nil, nil, err
	}
	for _, a := range attachments {
		// The upload's bytes now have a copy of their own; the bucket's
		// lifecycle rule removes them within UploadRetention if this
		// fails.
		_ = s.Files.DiscardUpload(ctx, a.UploadID)
	}
	return c, t, nil
}

// addComment writes d's comment, retrying while the ticket moves. The
// attachments are made once, on the first attempt that finds the ticket
// able to take the comment, and left in *attachments for the caller to
// discard should the comment not be written.
func (s *Conversations) addComment(ctx context.Context, ticketID string, d *CommentDraft, attachments *[]Attachment, complete Complete[*Comment]) (*Comment, *Ticket, error) {
	for range maxCommentAttempts {
		t, err := s.Tickets.Ticket(ctx, ticketID)
		if err != nil {
			return nil, nil, err
		}
		c, err := s.comment(t, d, ActorOf(ctx))
		if err != nil {
			return nil, nil, err
		}
		if len(d.Uploads) > 0 && *attachments == nil {
			if *attachments, err = s.attach(ctx, ticketID, d.Uploads, c.CreatedAt); err != nil {
				return nil, nil, err
			}
		}
		c.Attachments = *attachments
		err = s.Comments.AddComment(ctx, c, t, complete.Of(c))
		if errors.Is(err, ErrTicketMoved) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		return c, t, nil
	}
	return nil, nil, ErrTicketMoved
}

// attach checks that each upload can be attached at now (it exists, is
// unexpired and unattached, and its bytes have all arrived) and copies
// each to an attachment of ticketID. It copies nothing unless all can be
// attached; what it copied before failing is discarded.
func (s *Conversations) attach(ctx context.Context, ticketID string, ids []string, now time.Time) ([]Attachment, error) {
	found, err := s.Uploads.Uploads(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*Upload, len(found))
	for _, u := range found {
		byID[u.ID] = u
	}
	attachments := make([]Attachment, len(ids))
	bad := make([]string, len(ids))
	var mu sync.Mutex
	var failed error
	var wg sync.WaitGroup
	for i, id := range ids {
		u := byID[id]
		switch {
		case u == nil:
			bad[i] = id + " does not exist: uploads that are never attached are removed after 24 hours"
			continue
		case u.AttachedTo != "":
			bad[i] = id + " is attached to a comment already"
			continue
		case !now.Before(u.ExpiresAt):
			bad[i] = id + " expired at " + u.ExpiresAt.Format(time.RFC3339) + ": ask for a new upload"
			continue
		}
		attachments[i] = Attachment{ID: NewAttachmentID(), Filename: u.Filename, ContentType: u.ContentType, Size: u.Size, UploadID: id}
		wg.Go(func() {
			size, ok, err := s.Files.UploadedSize(ctx, id)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				failed = errors.Join(failed, err)
			case !ok:
				bad[i] = id + " has no bytes yet: send the file to its uploadUrl first"
			case size != u.Size:
				bad[i] = fmt.Sprintf("%s holds %d bytes, not the %d it declared", id, size, u.Size)
			}
		})
	}
	wg.Wait()
	if failed != nil {
		return nil, failed
	}
	var problems []UploadProblem
	for i, msg := range bad {
		if msg != "" {
			problems = append(problems, UploadProblem{Index: i, Message: msg})
		}
	}
	if len(problems) > 0 {
		return nil, UploadProblems(problems)
	}
	copied := make([]bool, len(attachments))
	for i, a := range attachments {
		wg.Go(func() {
			err := s.Files.Keep(ctx, a.UploadID, ticketID, a)
			mu.Lock()
			defer mu.Unlock()
			failed = errors.Join(failed, err)
			copied[i] = err == nil
		})
	}
	wg.Wait()
	if failed != nil {
		var done []Attachment
		for i, a := range attachments {
			if copied[i] {
				done = append(done, a)
			}
		}
		s.discard(ctx, ticketID, done)
		return nil, failed
	}
	return attachments, nil
}

// refused reports whether err says the comment was certainly not
// written. After any other error (a timeout, say) it may have been, and
// its attachments' copies are kept.
func refused(err error) bool {
	switch ErrorCode(err) {
	case CodeValidation, CodeNotFound, CodeConflict:
		return true
	}
	return false
}

// discard removes the copies of attachments whose comment was not
// written. A copy it cannot remove is left behind, unreferenced: that
// costs storage, never a file shown where it should not be.
func (s *Conversations) discard(ctx context.Context, ticketID string, attachments []Attachment) {
	ids := make([]string, len(attachments))
	for i, a := range attachments {
		ids[i] = a.ID
	}
	_ = s.Files.Discard(context.WithoutCancel(ctx), ticketID, ids)
}

// DownloadLinks returns a download link for each of c's attachments, in
// order.
func (s *Conversations) DownloadLinks(ctx context.Context, c *Comment) ([]Link, error) {
	if len(c.Attachments) == 0 {
		return nil, nil
	}
	if s.Files == nil {
		return nil, ErrNoFiles
	}
	links := make([]Link, len(c.Attachments))
	for i, a := range c.Attachments {
		l, err := s.Files.DownloadLink(ctx, c.TicketID, a)
		if err != nil {
			return nil, err
		}
		links[i] = l
	}
	return links, nil
}

// comment makes d's comment on t, and changes t as the comment does.
func (s *Conversations) comment(t *Ticket, d *CommentDraft, by Actor) (*Comment, error) {
	switch {
	case t.Status == StatusClosed:
		return nil, ErrTicketClosed
	case t.Comments >= MaxCommentsPerTicket:
		return nil, ErrTooManyComments
	}
	// The ticket's UpdatedAt becomes the comment's CreatedAt, so neither
	// may go back in time from what the ticket shows (another function's
	// clock may be a little ahead of this one's).
	at := later(s.Now.Now(), t.UpdatedAt)
	c := &Comment{
		ID: NewCommentID(at), TicketID: t.ID, Body: *d.Body, Public: d.Public == nil || *d.Public,
		AuthorID: d.AuthorID.Value, AuthorEmail: d.AuthorEmail.Value, AuthorName: d.AuthorName.Value, CreatedAt: at,
		ChangedBy: by,
	}
	if c.FromCustomer() && (t.Status == StatusPending || t.Status == StatusResolved) {
		t.Status = StatusOpen
	}
	t.UpdatedAt = at
	t.Comments++
	t.ChangedBy = c.ChangedBy
	return c, nil
}

// Comment returns one comment of a ticket. CodeNotFound if either does not
// exist.
func (s *Conversations) Comment(ctx context.Context, ticketID, commentID string) (*Comment, error) {
	if !ValidTicketID(ticketID) {
		return nil, errNoTicket
	}
	if !ValidCommentID(commentID) {
		return nil, errCommentNotFound
	}
	return s.Comments.Comment(ctx, ticketID, commentID)
}

// ListComments returns one page of a ticket's conversation; q must have
// been validated by the caller's parser.
func (s *Conversations) ListComments(ctx context.Context, q CommentQuery) (*CommentPage, error) {
	if !ValidTicketID(q.TicketID) {
		return nil, errNoTicket
	}
	return s.Comments.ListComments(ctx, q)
}

// RedactComment empties a comment's body and marks it redacted; a comment
// redacted already is returned as it is. CodeNotFound if the ticket or the
// comment does not exist.
func (s *Conversations) RedactComment(ctx context.Context, ticketID, commentID string) (*Comment, error) {
	if !ValidTicketID(ticketID) {
		return nil, errNoTicket
	}
	if !ValidCommentID(commentID) {
		return nil, errCommentNotFound
	}
	return s.Comments.RedactComment(ctx, ticketID, commentID, Stamp{At: s.Now.Now(), By: ActorOf(ctx)})
}
