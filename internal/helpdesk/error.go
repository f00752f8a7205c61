package helpdesk

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an Error. The HTTP layer maps each code to one status.
type Code string

// The error codes of the API's error catalogue.
const (
	CodeBadRequest         Code = "BAD_REQUEST"
	CodeUnauthorized       Code = "UNAUTHORIZED"
	CodeForbidden          Code = "FORBIDDEN"
	CodeNotFound           Code = "NOT_FOUND"
	CodeMethodNotAllowed   Code = "METHOD_NOT_ALLOWED"
	CodeConflict           Code = "CONFLICT"
	CodePreconditionFailed Code = "PRECONDITION_FAILED"
	CodePayloadTooLarge    Code = "PAYLOAD_TOO_LARGE"
	// CodeHeadersTooLarge answers a request whose request line and headers
	// exceed the 10 KiB API Gateway takes; the local server answers it,
	// API Gateway answers its own error deployed.
	CodeHeadersTooLarge Code = "HEADERS_TOO_LARGE"
	CodeValidation      Code = "VALIDATION_ERROR"
	CodeGone            Code = "GONE"
	// CodeRateLimited answers a request beyond its API key's rate limit.
	CodeRateLimited Code = "RATE_LIMITED"
	CodeUnavailable Code = "UNAVAILABLE"
	CodeInternal    Code = "INTERNAL"
)

// FieldError names one invalid field of a request and says what is wrong
// with it. Field is the field's path as the client wrote it, for example
// "ticket.customFields[2].value".
type FieldError struct {
	Field   string
	Message string
}

// Error is the domain's error: a code, a message safe to show to API
// clients, and optional per-field details.
type Error struct {
	Code    Code
	Message string
	Details []FieldError
}

// Error implements the error interface.
func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s (%d field errors)", e.Code, e.Message, len(e.Details))
}

// Errorf returns an Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first Error in err's chain, or
// CodeInternal when there is none. A nil err has no code.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the client-safe message of the first Error in err's
// chain, or a generic message for any other error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}

// ErrorDetails returns the field details of the first Error in err's chain.
func ErrorDetails(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Details
	}
	return nil
}

// Problems collects field errors while a request is validated, so that one
// answer names every bad field.
type Problems []FieldError

// Add records that field is invalid.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Has reports whether field already has a problem.
func (p Problems) Has(field string) bool {
	for _, f := range p {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Under reports whether field or any field within it (field.x, field[i])
// already has a problem.
func (p Problems) Under(field string) bool {
	for _, f := range p {
		if f.Field == field || strings.HasPrefix(f.Field, field+".") || strings.HasPrefix(f.Field, field+"[") {
			return true
		}
	}
	return false
}

// MaxDetails bounds the field errors one answer lists, so that a body of
// many small mistakes cannot make an answer many times its own size.
const MaxDetails = 100

// Err returns a CodeValidation Error carrying the collected problems (the
// first MaxDetails of them), or nil when there are none.
func (p Problems) Err() error {
	switch {
	case len(p) == 0:
		return nil
	case len(p) > MaxDetails:
		return &Error{Code: CodeValidation, Message: fmt.Sprintf("The request has invalid fields; these are the first %d of %d.", MaxDetails, len(p)), Details: p[:MaxDetails]}
	}
	return &Error{Code: CodeValidation, Message: "The request has invalid fields.", Details: p}
}
