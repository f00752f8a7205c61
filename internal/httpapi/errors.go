package httpapi

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// statuses is the one mapping from error codes to HTTP statuses.
var statuses = map[helpdesk.Code]int{
	helpdesk.CodeBadRequest:         http.StatusBadRequest,
	helpdesk.CodeUnauthorized:       http.StatusUnauthorized,
	helpdesk.CodeForbidden:          http.StatusForbidden,
	helpdesk.CodeNotFound:           http.StatusNotFound,
	helpdesk.CodeMethodNotAllowed:   http.StatusMethodNotAllowed,
	helpdesk.CodeConflict:           http.StatusConflict,
	helpdesk.CodePreconditionFailed: http.StatusPreconditionFailed,
	helpdesk.CodePayloadTooLarge:    http.StatusRequestEntityTooLarge,
	helpdesk.CodeHeadersTooLarge:    http.StatusRequestHeaderFieldsTooLarge,
	helpdesk.CodeValidation:         http.StatusUnprocessableEntity,
	helpdesk.CodeGone:               http.StatusGone,
	helpdesk.CodeRateLimited:        http.StatusTooManyRequests,
	helpdesk.CodeUnavailable:        http.StatusServiceUnavailable,
	helpdesk.CodeInternal:           http.StatusInternalServerError,
}

// RetryAfterUnavailable is the Retry-After of an UNAVAILABLE answer, in
// seconds: by then the SDK has already retried with back-off for about a
// second, so one more second is a fair wait before the client's own retry.
// The OpenAPI document states it.
const RetryAfterUnavailable = 1

// StatusOf returns the HTTP status for an error.
func StatusOf(err error) int {
	if s, ok := statuses[helpdesk.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    helpdesk.Code `json:"code"`
	Message string        `json:"message"`
	Details []detailJSON  `json:"details,omitempty"`
}

type detailJSON struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// MaxFieldShown bounds, in bytes, a field path echoed in an answer; a
// longer one is cut there and ends in "…". The OpenAPI document states it.
const MaxFieldShown = 200

// MaxMessageShown bounds, in characters, an error message or a field
// error's message in an answer, "…" included: most are fixed sentences,
// but some name what the client sent, and the document states one bound
// for all of them.
const MaxMessageShown = 1024

// shownField is a field path as an answer names it: as the client wrote
// it, but never a name that holds what looks like an API key or a webhook
// secret (a client that put one where a name goes must not see it echoed
// into its own logs), and shortened when long.
func shownField(field string) string {
	if strings.Contains(field, auth.Prefix) || strings.Contains(field, events.SecretPrefix) {
		return "(a name that looks like an API key or a secret)"
	}
	if len(field) > MaxFieldShown {
		return strings.ToValidUTF8(field[:MaxFieldShown], "") + "…"
	}
	return field
}

// shownMessage is a message as an answer shows it: cut to MaxMessageShown
// characters.
func shownMessage(msg string) string {
	if utf8.RuneCountInString(msg) <= MaxMessageShown {
		return msg
	}
	return string([]rune(msg)[:MaxMessageShown-1]) + "…"
}

// writeError answers with err's status and error body. Internal errors are
// logged with their cause and answered with a generic message.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := helpdesk.ErrorCode(err)
	switch code {
	case helpdesk.CodeUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="helpdesk"`)
	case helpdesk.CodeUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterUnavailable))
	}
	writeJSON(w, StatusOf(err), errorBody{Error: errorObject(r, err)})
}

// errorObject is the error object of an answer with err, as writeError
// and each failed entry of a bulk answer show it. Internal errors are
// logged with their cause and shown with a generic message.
func errorObject(r *http.Request, err error) errorJSON {
	code := helpdesk.ErrorCode(err)
	switch code {
	case helpdesk.CodeInternal:
		logger(r).ErrorContext(r.Context(), "request failed", slog.String("error", err.Error()))
	case helpdesk.CodeUnavailable:
		logger(r).WarnContext(r.Context(), "request failed: a dependency is unavailable", slog.String("error", err.Error()))
	}
	obj := errorJSON{Code: code, Message: shownMessage(helpdesk.ErrorMessage(err))}
	for _, d := range helpdesk.ErrorDetails(err) {
		obj.Details = append(obj.Details, detailJSON{Field: shownField(d.Field), Message: shownMessage(d.Message)})
	}
	return obj
}
