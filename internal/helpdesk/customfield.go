package helpdesk

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// FieldType is the type of a custom field's values.
type FieldType string

// The custom field types.
const (
	FieldText     FieldType = "text"
	FieldNumber   FieldType = "number"
	FieldCheckbox FieldType = "checkbox"
	FieldDate     FieldType = "date"
	FieldDropdown FieldType = "dropdown"
)

// FieldTypes lists every FieldType.
var FieldTypes = []FieldType{FieldText, FieldNumber, FieldCheckbox, FieldDate, FieldDropdown}

// Limits on custom field definitions.
const (
	MaxFieldNameLen   = 100
	MaxFieldOptions   = 100
	MaxFieldOptionLen = 100
)

// ValidCustomFieldID reports whether id could name a custom field
// definition.
func ValidCustomFieldID(id string) bool { return HasIDShape(id, "cf_", 1, 64) }

// CustomField is the definition of a custom field that tickets can carry.
type CustomField struct {
	ID        string
	Name      string
	Type      FieldType
	Options   []string // dropdown choices; empty for other types
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// CustomFieldPatch holds the client-writable fields of a definition.
type CustomFieldPatch struct {
	Name    *string
	Type    *FieldType
	Options *[]string
}

// Validate checks p under prefix (e.g. "customField."). On create every
// field but options is required; a dropdown needs options. On update (old
// non-nil) the type cannot change. Fields that already have a problem (for
// example from decoding) are not checked again.
func (p *CustomFieldPatch) Validate(prefix string, old *CustomField, problems *Problems) {
	name, typField, optsField := prefix+"name", prefix+"type", prefix+"options"
	switch {
	case problems.Has(name):
	case p.Name == nil && old == nil:
		problems.Add(name, "is required")
	case p.Name != nil:
		if n := utf8.RuneCountInString(strings.TrimSpace(*p.Name)); n == 0 || n > MaxFieldNameLen {
			problems.Add(name, "must be 1 to %d characters, not blank", MaxFieldNameLen)
		}
	}
	typ := FieldType("") // the field's type, when known and valid
	switch {
	case problems.Has(typField):
	case p.Type == nil && old == nil:
		problems.Add(typField, "is required")
	case p.Type != nil && !slices.Contains(FieldTypes, *p.Type):
		problems.Add(typField, "must be one of %s", join(FieldTypes))
	case p.Type != nil && old != nil && *p.Type != old.Type:
		problems.Add(typField, "cannot change once defined; create a new field instead")
	case p.Type != nil:
		typ = *p.Type
	default:
		typ = old.Type
	}
	switch {
	case problems.Has(optsField) || typ == "":
	case p.Options != nil && typ != FieldDropdown && len(*p.Options) > 0:
		problems.Add(optsField, "are allowed only for dropdown fields")
	case p.Options != nil && len(*p.Options) > MaxFieldOptions:
		problems.Add(optsField, "must have at most %d entries", MaxFieldOptions)
	case typ == FieldDropdown && (p.Options == nil && old == nil || p.Options != nil && len(*p.Options) == 0):
		problems.Add(optsField, "must list at least one choice for a dropdown")
	case p.Options != nil:
		opts := trimAll(*p.Options)
		for i, o := range opts {
			field := fmt.Sprintf("%s[%d]", optsField, i)
			n := utf8.RuneCountInString(o)
			switch {
			case problems.Has(field):
			case n == 0 || n > MaxFieldOptionLen:
				problems.Add(field, "must be 1 to %d characters, not blank", MaxFieldOptionLen)
			case slices.Contains(opts[:i], o):
				problems.Add(field, "duplicates an earlier option")
			}
		}
	}
}

func trimAll(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.TrimSpace(v)
	}
	return out
}

// Apply writes p's present fields onto f and reports whether anything
// changed. Name and options are stored trimmed. p must have been validated.
func (p *CustomFieldPatch) Apply(f *CustomField) bool {
	changed := false
	if p.Name != nil && strings.TrimSpace(*p.Name) != f.Name {
		f.Name, changed = strings.TrimSpace(*p.Name), true
	}
	if p.Type != nil && *p.Type != f.Type {
		f.Type, changed = *p.Type, true
	}
	if p.Options != nil && !slices.Equal(trimAll(*p.Options), f.Options) {
		f.Options, changed = trimAll(*p.Options), true
	}
	if f.Options == nil {
		f.Options = []string{}
	}
	return changed
}

// check returns what is wrong with v as a value of f, or "".
func (f *CustomField) check(v any) string {
	switch f.Type {
	case FieldText:
		s, ok := v.(string)
		if !ok {
			return "must be a string"
		}
		if utf8.RuneCountInString(s) > MaxTextValueLen {
			return fmt.Sprintf("must be at most %d characters", MaxTextValueLen)
		}
	case FieldNumber:
		if _, ok := v.(Number); !ok {
			return "must be a number"
		}
	case FieldCheckbox:
		if _, ok := v.(bool); !ok {
			return "must be true or false"
		}
	case FieldDate:
		s, ok := v.(string)
		if !ok {
			return "must be a date as YYYY-MM-DD"
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return "must be a date as YYYY-MM-DD"
		}
	case FieldDropdown:
		s, ok := v.(string)
		if !ok || !slices.Contains(f.Options, s) {
			return fmt.Sprintf("must be one of the field's options: %s", strings.Join(f.Options, ", "))
		}
	}
	return ""
}

// CustomFieldStore keeps custom field definitions. Names are unique,
// compared without regard to case.
type CustomFieldStore interface {
	// CreateCustomField stores a new definition and, when done is not nil,
	// records done in the same transaction. CodeConflict if the name is
	// taken or done's claim has been lost.
	CreateCustomField(ctx context.Context, f *CustomField, done *Completion) error
	// CustomField returns one definition. CodeNotFound if none.
	CustomField(ctx context.Context, id string) (*CustomField, error)
	// CustomFieldsByID returns the definitions among ids that exist.
	CustomFieldsByID(ctx context.Context, ids []string) (map[string]*CustomField, error)
	// ListCustomFields returns every definition, oldest first.
	ListCustomFields(ctx context.Context) ([]*CustomField, error)
	// UpdateCustomField changes a definition through fn, as
	// TicketStore.UpdateTicket does. CodeNotFound, CodeConflict (also for a
	// name that is taken), or fn's error.
	UpdateCustomField(ctx context.Context, id string, fn func(f *CustomField) (changed bool, err error)) (*CustomField, error)
	// DeleteCustomField removes a definition. CodeNotFound if none.
	DeleteCustomField(ctx context.Context, id string) error
}
