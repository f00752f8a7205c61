package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync/atomic"
	"unicode/utf8"

	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
)

// maxBulkTickets bounds the tickets' share of a bulk answer, counted as
// Lambda's response carries the body (JSON-escaped into a string, see
// escapedLen). Lambda refuses a response over 6 MB (6,291,456 bytes);
// this leaves over a megabyte for the rest of the answer, and the
// function's 128 MB hold it easily. A hundred tickets at their limits
// are far larger (docs/api.md#bulk-update): past the bound the answer
// omits every ticket (ticketsOmitted), the statuses stay. A variable so
// that tests can lower it.
var maxBulkTickets int64 = 5 << 20

// errBulkIfMatch refuses a bulk update with If-Match: one entity tag
// cannot name the versions of many tickets, and ignoring it would write
// over changes the client meant to guard against.
var errBulkIfMatch = &helpdesk.Error{Code: helpdesk.CodeBadRequest, Message: "A bulk update takes no If-Match; update one ticket with PUT to require its version.",
	Details: []helpdesk.FieldError{{Field: "If-Match", Message: "is not allowed on a bulk update"}}}

// bulkBody is the answer to a bulk update.
type bulkBody struct {
	Results []bulkResult `json:"results"`
	// TicketsOmitted is set when the tickets would make the answer too
	// large to send (maxBulkTickets) or to keep for replays; the results
	// then carry no tickets.
	TicketsOmitted bool `json:"ticketsOmitted"`
}

// bulkResult is one ticket's outcome: the ticket as a PUT would answer it,
// or the error object it would answer with.
type bulkResult struct {
	ID     string          `json:"id"`
	Status int             `json:"status"`
	Ticket json.RawMessage `json:"ticket,omitempty"`
	Error  *errorJSON      `json:"error,omitempty"`
}

// withoutTickets returns the answer with its tickets omitted.
func (b bulkBody) withoutTickets() bulkBody {
	out := bulkBody{Results: make([]bulkResult, len(b.Results)), TicketsOmitted: true}
	for i, res := range b.Results {
		res.Ticket = nil
		out.Results[i] = res
	}
	return out
}

func (a *api) updateTickets(w http.ResponseWriter, r *http.Request) error {
	if len(r.Header.Values("If-Match")) > 0 {
		return errBulkIfMatch
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	var problems helpdesk.Problems
	top, fields, err := parseMembers(body, "ticket", []string{"ids"}, &problems)
	if err != nil {
		return err
	}
	ids := decodeIDs(top, &problems)
	p := decodeTicketPatch(fields, &problems)
	return a.idempotent(w, r, body, func(claim *helpdesk.IdempotencyClaim) error {
		answer, err := a.bulkUpdate(r, ids, p, problems)
		if err != nil {
			return err
		}
		rp := jsonReply(http.StatusOK, answer)
		if claim != nil {
			a.completeBulk(r, claim, rp, answer)
		}
		rp.write(w)
		return nil
	})
}

// decodeIDs decodes the ids member of a bulk update; CheckBulkIDs
// checks them.
func decodeIDs(top map[string]json.RawMessage, problems *helpdesk.Problems) []string {
	raw, ok := top["ids"]
	if !ok {
		problems.Add("ids", "is required")
		return nil
	}
	ids := decodeStrings(raw, "ids", problems)
	if ids == nil {
		return nil
	}
	return *ids
}

// bulkUpdate runs the update of every id and renders each outcome as its
// worker finishes, so that no more than the answer's bound of tickets is
// held at once.
func (a *api) bulkUpdate(r *http.Request, ids []string, p *helpdesk.TicketPatch, problems helpdesk.Problems) (bulkBody, error) {
	answer := bulkBody{Results: make([]bulkResult, len(ids))}
	var size atomic.Int64
	var omitted atomic.Bool
	err := a.svc.UpdateTickets(r.Context(), ids, p, problems, func(i int, t *helpdesk.Ticket, err error) {
		res := bulkResult{ID: ids[i], Status: http.StatusOK}
		switch {
		case err != nil:
			obj := errorObject(r, err)
			res.Status, res.Error = StatusOf(err), &obj
		case !omitted.Load():
			b := encodeJSON(view.Ticket(t))
			if size.Add(int64(escapedLen(b))) > maxBulkTickets {
				omitted.Store(true)
			} else {
				res.Ticket = b
			}
		}
		answer.Results[i] = res
	})
	if err != nil {
		return bulkBody{}, err
	}
	if omitted.Load() {
		logger(r).WarnContext(r.Context(), "bulk update answer too large; tickets omitted", slog.Int64("bytes", size.Load()))
		answer = answer.withoutTickets()
	}
	return answer, nil
}

// completeBulk keeps a bulk update's answer for replays of its
// Idempotency-Key, without its tickets when it is too large to keep. The
// updates are already written, so a failure here does not fail the
// request: the key is freed instead, and a retry with it runs the same
// updates again, which change nothing more (an update that changes
// nothing writes nothing).
func (a *api) completeBulk(r *http.Request, claim *helpdesk.IdempotencyClaim, rp reply, answer bulkBody) {
	ctx := context.WithoutCancel(r.Context())
	saved := func(rp reply) *helpdesk.Completion {
		return &helpdesk.Completion{Claim: claim, Response: helpdesk.SavedResponse{Status: rp.status, Header: rp.header, Body: rp.body}}
	}
	err := a.idem.CompleteIdempotencyKey(ctx, saved(rp))
	if helpdesk.ErrorCode(err) == helpdesk.CodePayloadTooLarge && !answer.TicketsOmitted {
		err = a.idem.CompleteIdempotencyKey(ctx, saved(jsonReply(http.StatusOK, answer.withoutTickets())))
	}
	if err == nil {
		return
	}
	logger(r).WarnContext(r.Context(), "could not keep a bulk update's answer for its Idempotency-Key; freeing the key", slog.String("error", err.Error()))
	if rerr := a.idem.ReleaseIdempotencyKey(ctx, claim); rerr != nil {
		logger(r).WarnContext(r.Context(), "could not release an idempotency key; it frees itself when its lease ends", slog.String("error", rerr.Error()))
	}
}

// encodeJSON is v's JSON as answers write it (no HTML escaping, no
// trailing newline).
func encodeJSON(v any) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the wire types always encode
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// escapedLen bounds the length of b as a JSON string that escapes HTML,
// as the Lambda runtime encodes a response's body into its envelope: a
// quote or backslash takes two bytes, control and HTML characters, line
// and paragraph separators and invalid bytes six.
func escapedLen(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				n += 2
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			n += 6
		} else {
			n += size
		}
		i += size
	}
	return n
}
