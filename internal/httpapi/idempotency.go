package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// The headers of idempotent creates.
const (
	idempotencyKeyHeader = "Idempotency-Key"
	replayedHeader       = "Idempotent-Replayed"
)

var (
	errKeyReused = &helpdesk.Error{Code: helpdesk.CodeValidation, Message: "The Idempotency-Key was used with a different request.",
		Details: []helpdesk.FieldError{{Field: idempotencyKeyHeader, Message: "was first used with another body or route; use a new key for a new request"}}}
	errKeyInFlight = helpdesk.Errorf(helpdesk.CodeConflict, "A request with this Idempotency-Key is still in progress; retry shortly.")
)

// idempotencyKey returns the request's Idempotency-Key, or "" when it has
// none: 1 to 255 printable ASCII characters, given once. CodeBadRequest
// otherwise.
func idempotencyKey(h http.Header) (string, error) {
	values := h.Values(idempotencyKeyHeader)
	if len(values) == 0 {
		return "", nil
	}
	bad := func(msg string) error {
		return &helpdesk.Error{Code: helpdesk.CodeBadRequest, Message: "The Idempotency-Key header is malformed.",
			Details: []helpdesk.FieldError{{Field: idempotencyKeyHeader, Message: msg}}}
	}
	key := values[0]
	switch {
	case len(values) > 1:
		return "", bad("must be given once")
	case key == "" || len(key) > helpdesk.MaxIdempotencyKeyLen:
		return "", bad("must be 1 to 255 characters")
	}
	for i := range len(key) {
		if key[i] < 0x20 || key[i] > 0x7e {
			return "", bad("must hold only printable ASCII characters")
		}
	}
	return key, nil
}

// fingerprint identifies a request by its route and body. The body is
// taken as JSON with its keys sorted and its spacing dropped, so that a
// retry that re-encodes the same request is still the same request.
func fingerprint(route string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(route))
	h.Write([]byte{0})
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	canonical, err := []byte(nil), dec.Decode(&v)
	if err == nil {
		canonical, err = json.Marshal(v)
	}
	if err != nil {
		canonical = body
	}
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}

// resolved is route (a pattern such as "POST /tickets/{id}/comments") with
// the request's values in place of its wildcards, so that a create under
// one resource (a comment on a ticket) is not taken for the same create
// under another. A route without wildcards is left as it is.
func resolved(route string, r *http.Request) string {
	var b strings.Builder
	for rest := route; rest != ""; {
		open := strings.IndexByte(rest, '{')
		end := strings.IndexByte(rest[max(open, 0):], '}')
		if open < 0 || end < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:open])
		b.WriteString(r.PathValue(rest[open+1 : open+end]))
		rest = rest[open+end+1:]
	}
	return b.String()
}

// idempotent runs create, which answers a create request, under the
// request's Idempotency-Key when it has one. The first request with a key
// claims it and runs; a retry of it gets the stored answer again, with
// Idempotent-Replayed: true; a retry while it runs is CodeConflict; the key
// reused for another request is CodeValidation. create receives the claim
// (nil without a key) to complete in the same write as what it creates;
// when create fails, it has stored nothing and the claim is released, so
// that the client may retry, with the same key, a corrected request.
func (a *api) idempotent(w http.ResponseWriter, r *http.Request, body []byte, create func(*helpdesk.IdempotencyClaim) error) error {
	key, err := idempotencyKey(r.Header)
	if err != nil {
		return err
	}
	if key == "" {
		return create(nil)
	}
	ri := info(r)
	claim := &helpdesk.IdempotencyClaim{Scope: ri.caller.KeyID, Key: key, Fingerprint: fingerprint(resolved(ri.route, r), body), Token: rand.Text()}
	held, err := a.idem.ClaimIdempotencyKey(r.Context(), claim)
	switch {
	case err != nil:
		return err
	case held == nil:
	case held.Fingerprint != claim.Fingerprint:
		return errKeyReused
	case !held.Done:
		return errKeyInFlight
	default:
		rp := reply{status: held.Response.Status, header: held.Response.Header, body: held.Response.Body}
		w.Header().Set(replayedHeader, "true")
		rp.write(w)
		return nil
	}
	if err := create(claim); err != nil {
		if rerr := a.idem.ReleaseIdempotencyKey(context.WithoutCancel(r.Context()), claim); rerr != nil {
			logger(r).WarnContext(r.Context(), "could not release an idempotency key; it frees itself when its lease ends", slog.String("error", rerr.Error()))
		}
		return err
	}
	return nil
}

// create answers a create request: the body's wrapper object, decoded by
// decode, is stored by store under the request's Idempotency-Key when it
// has one, with the reply render makes of the new object saved with it,
// and that reply is the answer.
func create[P, T any](a *api, w http.ResponseWriter, r *http.Request, wrapper string,
	decode func(map[string]json.RawMessage, *helpdesk.Problems) P,
	store func(context.Context, P, helpdesk.Problems, helpdesk.Complete[T]) (T, error),
	render func(T) reply) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	var problems helpdesk.Problems
	fields, err := parseObject(body, wrapper, &problems)
	if err != nil {
		return err
	}
	p := decode(fields, &problems)
	return a.idempotent(w, r, body, func(claim *helpdesk.IdempotencyClaim) error {
		// With a claim the reply is made once, before the write, and what
		// is stored for replays is what this answer sends.
		var saved *reply
		var complete helpdesk.Complete[T]
		if claim != nil {
			complete = func(v T) *helpdesk.Completion {
				rp := render(v)
				saved = &rp
				return &helpdesk.Completion{Claim: claim, Response: helpdesk.SavedResponse{Status: rp.status, Header: rp.header, Body: rp.body}}
			}
		}
		v, err := store(r.Context(), p, problems, complete)
		if err != nil {
			return err
		}
		if saved == nil {
			rp := render(v)
			saved = &rp
		}
		saved.write(w)
		return nil
	})
}

// created is the 201 answer with body, for the new resource at path under
// BasePath.
func created(r *http.Request, path string, body any) reply {
	rp := jsonReply(http.StatusCreated, body)
	rp.header["Location"] = info(r).outPath + BasePath + path
	return rp
}
