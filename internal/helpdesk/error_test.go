package helpdesk_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
)

func TestErrorAccessors(t *testing.T) {
	details := []helpdesk.FieldError{{Field: "ticket.subject", Message: "must not be blank"}}
	notFound := &helpdesk.Error{Code: helpdesk.CodeNotFound, Message: "Ticket not found."}
	invalid := &helpdesk.Error{Code: helpdesk.CodeValidation, Message: "The request has invalid fields.", Details: details}
	const secret = "dynamodb: table arn:aws:dynamodb:eu-west-1:123456789012:table/tickets throttled"
	cases := []struct {
		name        string
		err         error
		wantCode    helpdesk.Code
		wantMessage string // "" with wantGeneric means any generic message
		wantGeneric bool
		wantDetails []helpdesk.FieldError
	}{
		{name: "Nil", err: nil},
		{name: "Error", err: notFound, wantCode: helpdesk.CodeNotFound, wantMessage: "Ticket not found."},
		{name: "ErrorWithDetails", err: invalid, wantCode: helpdesk.CodeValidation,
			wantMessage: "The request has invalid fields.", wantDetails: details},
		{name: "Wrapped", err: fmt.Errorf("update ticket: %w", invalid), wantCode: helpdesk.CodeValidation,
			wantMessage: "The request has invalid fields.", wantDetails: details},
		{name: "WrappedTwice", err: fmt.Errorf("a: %w", fmt.Errorf("b: %w", notFound)),
			wantCode: helpdesk.CodeNotFound, wantMessage: "Ticket not found."},
		{name: "FirstOfChain", err: &wrapper{outer: notFound, inner: invalid},
			wantCode: helpdesk.CodeNotFound, wantMessage: "Ticket not found."},
		{name: "Joined", err: errors.Join(errors.New(secret), notFound),
			wantCode: helpdesk.CodeNotFound, wantMessage: "Ticket not found."},
		{name: "Errorf", err: helpdesk.Errorf(helpdesk.CodeConflict, "Ticket %s changed.", "tkt_a"),
			wantCode: helpdesk.CodeConflict, wantMessage: "Ticket tkt_a changed."},
		{name: "Plain", err: errors.New(secret), wantCode: helpdesk.CodeInternal, wantGeneric: true},
		{name: "PlainWrapped", err: fmt.Errorf("store: %w", errors.New(secret)), wantCode: helpdesk.CodeInternal, wantGeneric: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := helpdesk.ErrorCode(tc.err); got != tc.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tc.wantCode)
			}
			msg := helpdesk.ErrorMessage(tc.err)
			if tc.wantGeneric {
				if strings.TrimSpace(msg) == "" || strings.Contains(msg, "dynamodb") || strings.Contains(msg, "arn:") ||
					strings.Contains(msg, "store") {
					t.Errorf("ErrorMessage = %q, want a generic message that does not leak %q", msg, tc.err)
				}
			} else if msg != tc.wantMessage {
				t.Errorf("ErrorMessage = %q, want %q", msg, tc.wantMessage)
			}
			if got := helpdesk.ErrorDetails(tc.err); !reflect.DeepEqual(got, tc.wantDetails) {
				t.Errorf("ErrorDetails = %+v, want %+v", got, tc.wantDetails)
			}
		})
	}
}

// wrapper is an error whose chain holds two Errors, outer first.
type wrapper struct{ outer, inner error }

func (w *wrapper) Error() string   { return "wrapper" }
func (w *wrapper) Unwrap() []error { return []error{w.outer, w.inner} }

func TestErrorString(t *testing.T) {
	cases := []struct {
		name string
		err  *helpdesk.Error
		want string
	}{
		{"NoDetails", helpdesk.Errorf(helpdesk.CodeNotFound, "Ticket %q not found.", "x"), `NOT_FOUND: Ticket "x" not found.`},
		{"Details", &helpdesk.Error{Code: helpdesk.CodeValidation, Message: "Bad.", Details: make([]helpdesk.FieldError, 2)},
			"VALIDATION_ERROR: Bad. (2 field errors)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	t.Run("NoneIsNil", func(t *testing.T) {
		var p helpdesk.Problems
		if err := p.Err(); err != nil {
			t.Fatalf("Err() = %v, want nil", err)
		}
		if p.Has("x") {
			t.Error(`Has("x") on no problems = true`)
		}
	})
	t.Run("Collected", func(t *testing.T) {
		var p helpdesk.Problems
		p.Add("ticket.subject", "must be at most %d characters", 500)
		p.Add("ticket.tags[3]", "is bad")
		if !p.Has("ticket.subject") || !p.Has("ticket.tags[3]") || p.Has("ticket.tags") {
			t.Errorf("Has is wrong for %+v", p)
		}
		err := p.Err()
		assertCode(t, err, helpdesk.CodeValidation)
		want := []helpdesk.FieldError{
			{Field: "ticket.subject", Message: "must be at most 500 characters"},
			{Field: "ticket.tags[3]", Message: "is bad"},
		}
		if got := helpdesk.ErrorDetails(err); !reflect.DeepEqual(got, want) {
			t.Errorf("ErrorDetails = %+v, want %+v", got, want)
		}
		if helpdesk.ErrorMessage(err) == "" {
			t.Error("ErrorMessage is empty")
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		var p helpdesk.Problems
		for i := range 3 * helpdesk.MaxDetails {
			p.Add(fmt.Sprintf("ticket.tags[%d]", i), "must be a string")
		}
		err := p.Err()
		details := helpdesk.ErrorDetails(err)
		if len(details) != helpdesk.MaxDetails || details[0].Field != "ticket.tags[0]" || !strings.Contains(helpdesk.ErrorMessage(err), "300") {
			t.Fatalf("%d details (%q first), message %q; want the first %d and the count", len(details), details[0].Field, helpdesk.ErrorMessage(err), helpdesk.MaxDetails)
		}
	})
}
