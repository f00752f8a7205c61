package helpdesk

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Service carries out the API's operations on tickets and custom field
// definitions, validating requests against the stores' state.
type Service struct {
	Tickets TicketStore
	Fields  CustomFieldStore
	// Now is the clock: read once per create, and once per write attempt
	// of an update.
	Now Clock
	// NewID returns a fresh id with the given prefix (e.g. "tkt_").
	NewID func(prefix string) string
}

// NewService returns a Service on the given stores with the real clock and
// random ids.
func NewService(tickets TicketStore, fields CustomFieldStore) *Service {
	return &Service{Tickets: tickets, Fields: fields, Now: time.Now, NewID: NewID}
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID returns prefix followed by 24 random lowercase base32 characters
// (120 bits).
func NewID(prefix string) string {
	b := make([]byte, 15)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return prefix + strings.ToLower(idEncoding.EncodeToString(b))
}

func (s *Service) now() time.Time { return s.Now.Now() }

// definitions loads the definitions p refers to; none when p has no custom
// fields, so a plain write costs no extra read, nor when it has too many to
// be valid.
func (s *Service) definitions(ctx context.Context, p *TicketPatch) (map[string]*CustomField, error) {
	if len(p.CustomFields) == 0 || len(p.CustomFields) > MaxCustomFieldValues {
		return nil, nil
	}
	var ids []string
	for _, id := range p.CustomFieldIDs() {
		if ValidCustomFieldID(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return s.Fields.CustomFieldsByID(ctx, ids)
}

// Complete makes the Completion that an idempotent create stores with the
// object it creates (its response, rendered from that object); nil for a
// create without an idempotency key.
type Complete[T any] func(T) *Completion

// Of returns c's completion for v, or nil when c is nil.
func (c Complete[T]) Of(v T) *Completion {
	if c == nil {
		return nil
	}
	return c(v)
}

// CreateTicket validates p, applies it to a new ticket with defaults and
// stores it, with complete's completion when it is not nil. problems holds
// what the caller already found wrong with the request (e.g. while
// decoding it); nothing is stored unless there are no problems at all, and
// CodeValidation names every bad field.
func (s *Service) CreateTicket(ctx context.Context, p *TicketPatch, problems Problems, complete Complete[*Ticket]) (*Ticket, error) {
	if p.Subject == nil && !problems.Has("ticket.subject") {
		problems.Add("ticket.subject", "is required")
	}
	// A new ticket has no tags to edit.
	if p.AddTags != nil {
		problems.Add("ticket.addTags", "is for updates; a create sets tags")
	}
	if p.RemoveTags != nil {
		problems.Add("ticket.removeTags", "is for updates; a create sets tags")
	}
	if len(p.CustomFields) <= MaxCustomFieldValues { // a longer list is refused whole by Validate
		for i, c := range p.CustomFields {
			if field := fmt.Sprintf("ticket.customFields[%d]", i); c.Remove && !problems.Under(field) {
				problems.Add(field+".value", "is required")
			}
		}
	}
	defs, err := s.definitions(ctx, p)
	if err != nil {
		return nil, err
	}
	p.Validate("ticket.", defs, &problems)
	if err := problems.Err(); err != nil {
		return nil, err
	}
	t := NewTicket(s.NewID("tkt_"), s.now())
	t.ChangedBy = ActorOf(ctx)
	p.Apply(t)
	if err := s.Tickets.CreateTicket(ctx, t, complete.Of(t)); err != nil {
		return nil, err
	}
	return t, nil
}

// UpdateTicket validates p and applies it to the stored ticket if the
// ticket meets pre (CodePreconditionFailed otherwise, also when another
// write lands first). A patch that changes nothing writes nothing and
// leaves UpdatedAt alone. problems is as for CreateTicket.
func (s *Service) UpdateTicket(ctx context.Context, id string, p *TicketPatch, problems Problems, pre Precondition) (*Ticket, error) {
	if !ValidTicketID(id) {
		return nil, Errorf(CodeNotFound, "Ticket not found.")
	}
	if err := s.validateUpdate(ctx, p, problems); err != nil {
		return nil, err
	}
	return s.update(ctx, id, p, pre)
}

// validateUpdate checks an update's patch, with the problems the caller
// already found, before anything is written.
func (s *Service) validateUpdate(ctx context.Context, p *TicketPatch, problems Problems) error {
	defs, err := s.definitions(ctx, p)
	if err != nil {
		return err
	}
	p.Validate("ticket.", defs, &problems)
	return problems.Err()
}

// update applies a validated patch to one stored ticket.
func (s *Service) update(ctx context.Context, id string, p *TicketPatch, pre Precondition) (*Ticket, error) {
	by := ActorOf(ctx)
	return s.Tickets.UpdateTicket(ctx, id, func(t *Ticket) (bool, error) {
		if !pre.Allows(t.Version) {
			return false, ErrTicketChanged
		}
		if !p.Apply(t) {
			return false, nil
		}
		var over Problems
		t.CheckLimits("ticket.", &over)
		if err := over.Err(); err != nil {
			return false, err
		}
		// The clock is read per attempt, just before the write, so that
		// UpdatedAt is as close as it can be to when the write lands (list
		// walks rely on it; see dynamo.Store.ListTickets). It never goes
		// back from what the ticket shows, though another function's clock
		// may be a little ahead of this one's: a ticket's history is in
		// the order of its writes.
		t.UpdatedAt = later(s.now(), t.UpdatedAt)
		t.ChangedBy = by
		return true, nil
	})
}

// Ticket returns one ticket. CodeNotFound if none.
func (s *Service) Ticket(ctx context.Context, id string) (*Ticket, error) {
	if !ValidTicketID(id) {
		return nil, Errorf(CodeNotFound, "Ticket not found.")
	}
	return s.Tickets.Ticket(ctx, id)
}

// DeleteTicket removes one ticket if it meets pre. CodeNotFound if none,
// CodePreconditionFailed if it does not meet pre.
func (s *Service) DeleteTicket(ctx context.Context, id string, pre Precondition) error {
	if !ValidTicketID(id) {
		return Errorf(CodeNotFound, "Ticket not found.")
	}
	return s.Tickets.DeleteTicket(ctx, id, pre, Stamp{At: s.now(), By: ActorOf(ctx)})
}

// later returns now, or the millisecond after prev when now is not after
// it.
func later(now, prev time.Time) time.Time {
	if !now.After(prev) {
		return prev.Add(time.Millisecond)
	}
	return now
}

// ListTickets returns one page of tickets; q must have been validated by
// the caller's parser (see ListQuery).
func (s *Service) ListTickets(ctx context.Context, q ListQuery) (*TicketPage, error) {
	return s.Tickets.ListTickets(ctx, q)
}

// CreateCustomField validates p and stores a new definition, with
// complete's completion when it is not nil. problems is as for
// CreateTicket.
func (s *Service) CreateCustomField(ctx context.Context, p *CustomFieldPatch, problems Problems, complete Complete[*CustomField]) (*CustomField, error) {
	p.Validate("customField.", nil, &problems)
	if err := problems.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	f := &CustomField{ID: s.NewID("cf_"), CreatedAt: now, UpdatedAt: now}
	p.Apply(f)
	if err := s.Fields.CreateCustomField(ctx, f, complete.Of(f)); err != nil {
		return nil, err
	}
	return f, nil
}

// CustomField returns one definition. CodeNotFound if none.
func (s *Service) CustomField(ctx context.Context, id string) (*CustomField, error) {
	if !ValidCustomFieldID(id) {
		return nil, Errorf(CodeNotFound, "Custom field not found.")
	}
	return s.Fields.CustomField(ctx, id)
}

// ListCustomFields returns every definition, oldest first.
func (s *Service) ListCustomFields(ctx context.Context) ([]*CustomField, error) {
	return s.Fields.ListCustomFields(ctx)
}

// UpdateCustomField validates p against the stored definition and applies
// it. Renaming to a taken name is CodeConflict; changing the type is
// CodeValidation. problems is as for CreateTicket.
func (s *Service) UpdateCustomField(ctx context.Context, id string, p *CustomFieldPatch, problems Problems) (*CustomField, error) {
	if !ValidCustomFieldID(id) {
		return nil, Errorf(CodeNotFound, "Custom field not found.")
	}
	now := s.now()
	return s.Fields.UpdateCustomField(ctx, id, func(f *CustomField) (bool, error) {
		found := slices.Clone(problems)
		p.Validate("customField.", f, &found)
		if err := found.Err(); err != nil {
			return false, err
		}
		if !p.Apply(f) {
			return false, nil
		}
		f.UpdatedAt = now
		return true, nil
	})
}

// DeleteCustomField removes a definition. Tickets keep the values they
// hold for it until a client removes them with a null value.
func (s *Service) DeleteCustomField(ctx context.Context, id string) error {
	if !ValidCustomFieldID(id) {
		return Errorf(CodeNotFound, "Custom field not found.")
	}
	return s.Fields.DeleteCustomField(ctx, id)
}
