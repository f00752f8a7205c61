package helpdesk

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is a ticket's place in its lifecycle.
type Status string

// The ticket statuses, in lifecycle order.
const (
	StatusNew      Status = "new"
	StatusOpen     Status = "open"
	StatusPending  Status = "pending"
	StatusResolved Status = "resolved"
	StatusClosed   Status = "closed"
)

// Statuses lists every status in lifecycle order, the order of sort_by=status.
var Statuses = []Status{StatusNew, StatusOpen, StatusPending, StatusResolved, StatusClosed}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Priority is a ticket's urgency.
type Priority string

// The ticket priorities, lowest first.
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Priorities lists every priority lowest first, the order of sort_by=priority.
var Priorities = []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}

// Valid reports whether p is one of Priorities.
func (p Priority) Valid() bool { return slices.Contains(Priorities, p) }

// Type is the kind of request a ticket represents.
type Type string

// The ticket types.
const (
	TypeQuestion Type = "question"
	TypeIncident Type = "incident"
	TypeProblem  Type = "problem"
	TypeTask     Type = "task"
)

// Types lists every ticket type.
var Types = []Type{TypeQuestion, TypeIncident, TypeProblem, TypeTask}

// Valid reports whether t is one of Types.
func (t Type) Valid() bool { return slices.Contains(Types, t) }

// Limits on ticket fields. Requests beyond them are rejected with
// CodeValidation.
const (
	MaxSubjectLen        = 500
	MaxRequesterNameLen  = 255
	MaxRequesterEmailLen = 254
	MaxAssigneeIDLen     = 128
	MaxTags              = 50
	MaxTagLen            = 100
	MaxCustomFieldValues = 100
	MaxTextValueLen      = 1000
)

// ValidAssigneeID reports whether id is a well-formed agent id: "usr_" and
// URL-safe characters, so that it can be used in a query string and an
// index key.
func ValidAssigneeID(id string) bool {
	body, ok := strings.CutPrefix(id, "usr_")
	return ok && len(id) <= MaxAssigneeIDLen && validAssigneeBody(body)
}

// ValidTicketID reports whether id could name a ticket: the shape of the
// ids NewID makes for tickets. Ids of any other shape are answered as not
// found without a database call.
func ValidTicketID(id string) bool { return HasIDShape(id, "tkt_", 1, 64) }

// Ticket is a customer support request.
type Ticket struct {
	ID             string
	Subject        string
	Status         Status
	Priority       Priority
	Type           Type
	AssigneeID     string // empty when unassigned
	RequesterEmail string // empty when unknown
	RequesterName  string // empty when unknown
	Tags           []string
	CustomFields   []CustomFieldValue
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// Version counts the writes of the ticket; the store uses it for
	// conditional writes.
	Version int64
	// Comments counts the comments the ticket has taken, to hold it to
	// MaxCommentsPerTicket; it is not shown.
	Comments int
	// ChangedBy is who made the ticket's latest write; it is not shown
	// on the ticket, but the events of the write name it.
	ChangedBy Actor
}

// CustomFieldValue is a ticket's value for one custom field definition. Value
// is a string (text, date, dropdown), a Number (number) or a bool
// (checkbox).
type CustomFieldValue struct {
	ID    string
	Value any
}

// Nullable is a patch value for a field that can be cleared: absent (Set
// false) leaves the field alone, Null clears it, otherwise Value replaces it.
type Nullable[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// Set returns a Nullable that carries v.
func Set[T any](v T) Nullable[T] { return Nullable[T]{Set: true, Value: v} }

// CustomFieldChange sets (or, with Remove, removes) one custom field value.
type CustomFieldChange struct {
	ID     string
	Value  any
	Remove bool
}

// TicketPatch holds the client-writable fields of a ticket. A nil pointer or
// an unset Nullable means the field was absent from the request. It is the
// body of both create (applied to a ticket with defaults) and update.
type TicketPatch struct {
	Subject        *string
	Status         *Status
	Priority       *Priority
	Type           *Type
	AssigneeID     Nullable[string]
	RequesterEmail Nullable[string]
	RequesterName  Nullable[string]
	Tags           *[]string
	// AddTags and RemoveTags edit the stored tags instead of replacing
	// them (updates only; not with Tags): Apply removes, then appends,
	// inside the store's read-modify-write, so concurrent edits of
	// different tags all keep theirs.
	AddTags    *[]string
	RemoveTags *[]string
	// CustomFields is nil when absent. Changes merge by id.
	CustomFields []CustomFieldChange
}

// Validate checks every present field of p against the limits, collecting
// one problem per bad field under the given prefix (e.g. "ticket.").
// Custom field values are checked against defs, the definitions of the ids
// p names (missing ids are unknown fields).
func (p *TicketPatch) Validate(prefix string, defs map[string]*CustomField, problems *Problems) {
	if p.Subject != nil {
		s := strings.TrimSpace(*p.Subject)
		switch n := utf8.RuneCountInString(s); {
		case n == 0:
			problems.Add(prefix+"subject", "must not be blank")
		case n > MaxSubjectLen:
			problems.Add(prefix+"subject", "must be at most %d characters", MaxSubjectLen)
		}
	}
	if p.Status != nil && !p.Status.Valid() {
		problems.Add(prefix+"status", "must be one of %s", join(Statuses))
	}
	if p.Priority != nil && !p.Priority.Valid() {
		problems.Add(prefix+"priority", "must be one of %s", join(Priorities))
	}
	if p.Type != nil && !p.Type.Valid() {
		problems.Add(prefix+"type", "must be one of %s", join(Types))
	}
	if p.AssigneeID.Set && !p.AssigneeID.Null && !ValidAssigneeID(p.AssigneeID.Value) {
		problems.Add(prefix+"assigneeId", `must start with "usr_", use only letters, digits, ".", "_" and "-", and be at most %d characters`, MaxAssigneeIDLen)
	}
	if p.RequesterEmail.Set && !p.RequesterEmail.Null {
		if msg := checkEmail(p.RequesterEmail.Value); msg != "" {
			problems.Add(prefix+"requesterEmail", "%s", msg)
		}
	}
	if p.RequesterName.Set && !p.RequesterName.Null && utf8.RuneCountInString(p.RequesterName.Value) > MaxRequesterNameLen {
		problems.Add(prefix+"requesterName", "must be at most %d characters", MaxRequesterNameLen)
	}
	validateTags(prefix+"tags", p.Tags, problems)
	validateTags(prefix+"addTags", p.AddTags, problems)
	validateTags(prefix+"removeTags", p.RemoveTags, problems)
	if p.Tags != nil {
		// Replacing the list and editing it at once has no single meaning.
		for _, f := range []struct {
			name string
			list *[]string
		}{{"addTags", p.AddTags}, {"removeTags", p.RemoveTags}} {
			if f.list != nil {
				problems.Add(prefix+f.name, "must not be sent with tags; send either tags (the whole list) or addTags/removeTags")
			}
		}
	}
	if p.AddTags != nil && p.RemoveTags != nil {
		for i, tag := range *p.RemoveTags {
			field := fmt.Sprintf("%sremoveTags[%d]", prefix, i)
			if tag = strings.TrimSpace(tag); tag != "" && slices.ContainsFunc(*p.AddTags, func(a string) bool { return strings.TrimSpace(a) == tag }) && !problems.Has(field) {
				problems.Add(field, "is also in addTags; a tag cannot be added and removed at once")
			}
		}
	}
	if len(p.CustomFields) > MaxCustomFieldValues {
		problems.Add(prefix+"customFields", "must have at most %d values", MaxCustomFieldValues)
		return
	}
	seen := make(map[string]bool, len(p.CustomFields))
	for i, c := range p.CustomFields {
		field := fmt.Sprintf("%scustomFields[%d]", prefix, i)
		if problems.Under(field) {
			continue // already reported while decoding
		}
		if seen[c.ID] {
			problems.Add(field+".id", "duplicates an earlier entry")
			continue
		}
		seen[c.ID] = true
		if c.Remove {
			// Removing needs no definition: values of deleted
			// definitions can be cleared too.
			continue
		}
		def, ok := defs[c.ID]
		if !ok {
			problems.Add(field+".id", "is not a custom field definition")
			continue
		}
		if msg := def.check(c.Value); msg != "" {
			problems.Add(field+".value", "%s", msg)
		}
	}
}

// validateTags checks a list of tags: at most MaxTags, each 1 to MaxTagLen
// characters and not blank. A list over its length is refused as a whole,
// unexamined.
func validateTags(field string, tags *[]string, problems *Problems) {
	switch {
	case tags == nil:
	case len(*tags) > MaxTags:
		problems.Add(field, "must have at most %d tags", MaxTags)
	default:
		for i, tag := range *tags {
			at := fmt.Sprintf("%s[%d]", field, i)
			if n := utf8.RuneCountInString(strings.TrimSpace(tag)); (n == 0 || n > MaxTagLen) && !problems.Has(at) {
				problems.Add(at, "must be 1 to %d characters, not blank", MaxTagLen)
			}
		}
	}
}

// CustomFieldIDs returns the ids of the custom fields p changes.
func (p *TicketPatch) CustomFieldIDs() []string {
	ids := make([]string, 0, len(p.CustomFields))
	for _, c := range p.CustomFields {
		ids = append(ids, c.ID)
	}
	return ids
}

// checkEmail returns what is wrong with an email address, or "".
func checkEmail(s string) string {
	if len(s) > MaxRequesterEmailLen {
		return fmt.Sprintf("must be at most %d characters", MaxRequesterEmailLen)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "must be an email address such as customer@example.com"
	}
	return ""
}

// Apply writes p's present fields onto t and reports whether any visible
// field changed. p must have been validated.
func (p *TicketPatch) Apply(t *Ticket) bool {
	before := t.Clone()
	if p.Subject != nil {
		t.Subject = strings.TrimSpace(*p.Subject)
	}
	if p.Status != nil {
		t.Status = *p.Status
	}
	if p.Priority != nil {
		t.Priority = *p.Priority
	}
	if p.Type != nil {
		t.Type = *p.Type
	}
	applyNullable(&t.AssigneeID, p.AssigneeID)
	applyNullable(&t.RequesterEmail, p.RequesterEmail)
	applyNullable(&t.RequesterName, p.RequesterName)
	if p.Tags != nil {
		t.Tags = normalizeTags(*p.Tags)
	}
	if p.RemoveTags != nil {
		drop := normalizeTags(*p.RemoveTags)
		t.Tags = slices.DeleteFunc(t.Tags, func(tag string) bool { return slices.Contains(drop, tag) })
	}
	if p.AddTags != nil {
		t.Tags = normalizeTags(append(t.Tags, *p.AddTags...))
	}
	for _, c := range p.CustomFields {
		i := slices.IndexFunc(t.CustomFields, func(v CustomFieldValue) bool { return v.ID == c.ID })
		switch {
		case c.Remove && i >= 0:
			t.CustomFields = slices.Delete(t.CustomFields, i, i+1)
		case c.Remove:
		case i >= 0:
			t.CustomFields[i].Value = c.Value
		default:
			t.CustomFields = append(t.CustomFields, CustomFieldValue{ID: c.ID, Value: c.Value})
		}
	}
	return !before.SameContent(t)
}

// CheckLimits records a problem under prefix for each limit that t as a
// whole breaks. A patch is checked alone by Validate, but its custom field
// values merge with those the ticket holds, and its addTags join the
// ticket's tags, so an update within the limits can still take the ticket
// over them.
func (t *Ticket) CheckLimits(prefix string, problems *Problems) {
	if len(t.Tags) > MaxTags {
		problems.Add(prefix+"addTags", "would leave the ticket with more than %d tags; remove some (removeTags) first", MaxTags)
	}
	if len(t.CustomFields) > MaxCustomFieldValues {
		problems.Add(prefix+"customFields", "would leave the ticket with more than %d values; remove some (value null) first", MaxCustomFieldValues)
	}
}

func applyNullable(dst *string, n Nullable[string]) {
	switch {
	case !n.Set:
	case n.Null:
		*dst = ""
	default:
		*dst = n.Value
	}
}

// normalizeTags trims tags and drops repeats, keeping the first occurrence.
func normalizeTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, tag := range tags {
		tag = strings.TrimSpace(tag)
		if !slices.Contains(out, tag) {
			out = append(out, tag)
		}
	}
	return out
}

// Clone returns a copy of t that shares no slices with it.
func (t *Ticket) Clone() *Ticket {
	c := *t
	c.Tags = slices.Clone(t.Tags)
	c.CustomFields = slices.Clone(t.CustomFields)
	return &c
}

// SameContent reports whether t and u show the same client-visible fields,
// timestamps and version aside.
func (t *Ticket) SameContent(u *Ticket) bool {
	return t.ID == u.ID && t.Subject == u.Subject && t.Status == u.Status &&
		t.Priority == u.Priority && t.Type == u.Type && t.AssigneeID == u.AssigneeID &&
		t.RequesterEmail == u.RequesterEmail && t.RequesterName == u.RequesterName &&
		slices.Equal(t.Tags, u.Tags) && slices.Equal(t.CustomFields, u.CustomFields)
}

// NewTicket returns a ticket with the defaults of a create: status new,
// priority normal, type question, no tags, no custom fields, unassigned,
// version 1.
func NewTicket(id string, now time.Time) *Ticket {
	return &Ticket{
		ID:           id,
		Status:       StatusNew,
		Priority:     PriorityNormal,
		Type:         TypeQuestion,
		Tags:         []string{},
		CustomFields: []CustomFieldValue{},
		CreatedAt:    now,
		UpdatedAt:    now,
		Version:      1,
	}
}

// Precondition is what a write requires of the ticket's stored version
// (If-Match). The zero Precondition requires nothing.
type Precondition struct {
	// Required is set when only the Versions listed may be written over.
	Required bool
	Versions []int64
}

// Allows reports whether a ticket at version v may be written.
func (p Precondition) Allows(v int64) bool { return !p.Required || slices.Contains(p.Versions, v) }

// ErrTicketChanged answers a write whose precondition the ticket does not
// meet.
var ErrTicketChanged = Errorf(CodePreconditionFailed, "The ticket has changed since the version named in If-Match; read it again.")

// TicketStore keeps tickets.
type TicketStore interface {
	// CreateTicket stores a new ticket and, when done is not nil, records
	// done in the same transaction. CodeConflict if the id is taken or
	// done's claim has been lost.
	CreateTicket(ctx context.Context, t *Ticket, done *Completion) error
	// Ticket returns the ticket with the given id. CodeNotFound if none.
	Ticket(ctx context.Context, id string) (*Ticket, error)
	// UpdateTicket reads the ticket, calls fn to change it and writes it back
	// only if fn reports a change, conditionally on nobody having written it
	// in between (re-reading and calling fn again when somebody has). It
	// returns the ticket as stored. CodeNotFound if there is no such ticket,
	// CodeConflict if concurrent writers kept winning, or fn's error.
	UpdateTicket(ctx context.Context, id string, fn func(t *Ticket) (changed bool, err error)) (*Ticket, error)
	// DeleteTicket moves a ticket to the trash if its version meets pre:
	// it leaves a tombstone saying who deleted it when, with the ticket as
	// it was, for TrashRetention (see TrashStore). CodeNotFound if there
	// is none, CodePreconditionFailed if it does not meet pre, CodeConflict
	// if concurrent writers kept winning.
	DeleteTicket(ctx context.Context, id string, pre Precondition, del Stamp) error
	// ListTickets returns one page of tickets. CodeBadRequest for a cursor
	// that is malformed, tampered with, or issued for another query.
	ListTickets(ctx context.Context, q ListQuery) (*TicketPage, error)
}

func join[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
