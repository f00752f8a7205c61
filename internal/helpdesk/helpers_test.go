package helpdesk_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// set returns a Nullable carrying v.
func set(v string) helpdesk.Nullable[string] {
	return helpdesk.Nullable[string]{Set: true, Value: v}
}

// null returns a Nullable that clears its field.
func null() helpdesk.Nullable[string] {
	return helpdesk.Nullable[string]{Set: true, Null: true}
}

// repeat returns s repeated n times.
func repeat(s string, n int) string { return strings.Repeat(s, n) }

// fieldsOf returns the field paths of problems, in order.
func fieldsOf(problems []helpdesk.FieldError) []string {
	fields := make([]string, 0, len(problems))
	for _, p := range problems {
		fields = append(fields, p.Field)
	}
	return fields
}

// assertFields fails unless problems name exactly the fields want, in order,
// each with a non-empty message.
func assertFields(tb testing.TB, problems []helpdesk.FieldError, want ...string) {
	tb.Helper()
	if got := fieldsOf(problems); !slices.Equal(got, want) {
		tb.Fatalf("problem fields = %q, want %q (problems: %+v)", got, want, problems)
	}
	for _, p := range problems {
		if strings.TrimSpace(p.Message) == "" {
			tb.Errorf("problem for %q has an empty message", p.Field)
		}
	}
}

// assertCode fails unless err carries the code want.
func assertCode(tb testing.TB, err error, want helpdesk.Code) {
	tb.Helper()
	if got := helpdesk.ErrorCode(err); got != want {
		tb.Fatalf("ErrorCode(%v) = %q, want %q", err, got, want)
	}
}
