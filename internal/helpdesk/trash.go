package helpdesk

import (
	"context"
	"time"
)

// DeletedTicket is a ticket in the trash: as it was when it was deleted,
// and who deleted it when.
type DeletedTicket struct {
	Ticket  *Ticket
	Deleted Stamp
}

// TrashQuery is a validated request for one page of the trash, newest
// deletion first.
type TrashQuery struct {
	PageSize int
	// After is the cursor of the previous page's last entry.
	After string
}

// TrashPage is one page of the trash; Next is the cursor of the
// following page, or "" on the last.
type TrashPage struct {
	Tickets []*DeletedTicket
	Next    string
}

// TrashStore keeps deleted tickets until they are restored or purged.
// A ticket enters the trash through TicketStore.DeleteTicket.
type TrashStore interface {
	// DeletedTickets returns one page of the trash, newest deletion
	// first, as of now: entries past TrashRetention are not listed.
	// CodeBadRequest for a cursor that is malformed, tampered with, or
	// issued for another list.
	DeletedTickets(ctx context.Context, q TrashQuery, now time.Time) (*TrashPage, error)
	// RestoreTicket puts a deleted ticket back, with the same id, fields,
	// comments and history, as written by restore (which sets its
	// UpdatedAt and ChangedBy), and takes it out of the trash in the same
	// atomic write. It returns the ticket as stored. CodeNotFound if the
	// ticket is not in the trash at restore.At.
	RestoreTicket(ctx context.Context, id string, restore Stamp) (*Ticket, error)
	// PurgeTicket takes a ticket out of the trash for good; its comments
	// and history follow within seconds (the stream's consumer removes
	// them). CodeNotFound if the ticket is not in the trash at purge.At.
	PurgeTicket(ctx context.Context, id string, purge Stamp) error
}

// Trash carries out the trash's operations: listing, restoring and
// purging deleted tickets.
type Trash struct {
	Store TrashStore
	// Now is the clock, read once per operation.
	Now Clock
}

// NewTrash returns the trash on store with the real clock.
func NewTrash(store TrashStore) *Trash {
	return &Trash{Store: store, Now: time.Now}
}

var errNotInTrash = Errorf(CodeNotFound, "Ticket not found in the trash.")

// DeletedTickets returns one page of the trash; q must have been
// validated by the caller's parser.
func (t *Trash) DeletedTickets(ctx context.Context, q TrashQuery) (*TrashPage, error) {
	return t.Store.DeletedTickets(ctx, q, t.Now.Now())
}

// RestoreTicket restores a deleted ticket. Its UpdatedAt becomes the
// time of the restore (never earlier than it was), so that clients that
// follow changes by updated_at see it come back; its version moves on.
// CodeNotFound if it is not in the trash.
func (t *Trash) RestoreTicket(ctx context.Context, id string) (*Ticket, error) {
	if !ValidTicketID(id) {
		return nil, errNotInTrash
	}
	return t.Store.RestoreTicket(ctx, id, Stamp{At: t.Now.Now(), By: ActorOf(ctx)})
}

// PurgeTicket deletes a ticket in the trash for good. CodeNotFound if it
// is not in the trash.
func (t *Trash) PurgeTicket(ctx context.Context, id string) error {
	if !ValidTicketID(id) {
		return errNotInTrash
	}
	return t.Store.PurgeTicket(ctx, id, Stamp{At: t.Now.Now(), By: ActorOf(ctx)})
}

// Restored returns deleted as restore writes it back: the ticket's next
// version, updated at the restore (or just after its last write, should
// the restoring clock be behind), by the restorer.
func Restored(deleted *Ticket, restore Stamp) *Ticket {
	t := deleted.Clone()
	t.Version++
	t.UpdatedAt = later(restore.At, deleted.UpdatedAt)
	t.ChangedBy = restore.By
	return t
}
