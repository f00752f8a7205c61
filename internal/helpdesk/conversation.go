package helpdesk

import (
	"context"
	"errors"
)

// Conversations carries out the comment operations: a ticket's public
// replies and internal notes.
type Conversations struct {
	Tickets  TicketStore
	Comments CommentStore
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
	for range maxCommentAttempts {
		t, err := s.Tickets.Ticket(ctx, ticketID)
		if err != nil {
			return nil, nil, err
		}
		c, err := s.comment(t, d, ActorOf(ctx))
		if err != nil {
			return nil, nil, err
		}
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
