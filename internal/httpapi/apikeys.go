package httpapi

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
)

// apiKeyJSON is the public view of an API key. Its digest is never shown;
// the key itself only in the answer to its creation.
type apiKeyJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Permission string `json:"permission"`
	// RateLimit is the key's own limit; null when it follows the stack's
	// default.
	RateLimit  *int    `json:"rateLimit"`
	CreatedAt  string  `json:"createdAt"`
	LastUsedAt *string `json:"lastUsedAt"`
	Key        string  `json:"key,omitempty"`
}

type apiKeyBody struct {
	APIKey apiKeyJSON `json:"apiKey"`
}

type apiKeysBody struct {
	APIKeys []apiKeyJSON `json:"apiKeys"`
	Meta    listMeta     `json:"meta"`
	Links   listLinks    `json:"links"`
}

func newAPIKeyJSON(k *helpdesk.APIKey, key string) apiKeyJSON {
	out := apiKeyJSON{ID: k.ID, Name: k.Name, Permission: string(k.Permission), CreatedAt: view.FormatTime(k.CreatedAt), Key: key}
	if k.RateLimit > 0 {
		out.RateLimit = &k.RateLimit
	}
	if !k.LastUsedAt.IsZero() {
		used := view.FormatTime(k.LastUsedAt)
		out.LastUsedAt = &used
	}
	return out
}

// errKeyNotReplayable refuses an Idempotency-Key on a key's creation: the
// answer holds the key, which is stored nowhere, so it cannot be saved for
// a replay.
var errKeyNotReplayable = &helpdesk.Error{Code: helpdesk.CodeBadRequest,
	Message: "Idempotency-Key is not accepted when creating an API key: the key is stored nowhere, so its answer cannot be replayed. Send the request without it; after a lost answer, list the keys and revoke any you did not receive.",
	Details: []helpdesk.FieldError{{Field: idempotencyKeyHeader, Message: "is not accepted on this route"}}}

// decodeAPIKeyDraft decodes the members of an "apiKey" object.
func decodeAPIKeyDraft(fields map[string]json.RawMessage, problems *helpdesk.Problems) *helpdesk.APIKeyDraft {
	const prefix = "apiKey."
	d := &helpdesk.APIKeyDraft{}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		raw, field := fields[k], prefix+k
		switch k {
		case "name":
			if s, ok := decodeString(raw, field, problems); ok {
				d.Name = &s
			}
		case "permission":
			if s, ok := decodeString(raw, field, problems); ok {
				p := helpdesk.Permission(s)
				d.Permission = &p
			}
		case "rateLimit":
			if isNull(raw) {
				continue // the stack's default
			}
			// Only a plain integer: not 1.0, 1e3 or a string.
			n, err := strconv.ParseInt(string(raw), 10, 64)
			if err != nil {
				problems.Add(field, "must be a whole number from 1 to %d, or null for the default", helpdesk.MaxRateLimit)
				continue
			}
			d.RateLimit = &n
		case "id", "createdAt", "lastUsedAt", "key":
			problems.Add(field, "is read-only")
		default:
			problems.Add(field, "is not a known field")
		}
	}
	return d
}

func (a *api) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	if len(r.Header.Values(idempotencyKeyHeader)) > 0 {
		return errKeyNotReplayable
	}
	var problems helpdesk.Problems
	fields, err := readObject(w, r, "apiKey", &problems)
	if err != nil {
		return err
	}
	k, key, err := a.keys.Create(r.Context(), decodeAPIKeyDraft(fields, &problems), problems)
	if err != nil {
		return err
	}
	created(r, "/api_keys/"+k.ID, apiKeyBody{newAPIKeyJSON(k, key)}).write(w)
	return nil
}

func (a *api) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	values, err := queryValues(r.URL.RawQuery)
	if err != nil {
		return err
	}
	size, after, err := parsePage(values)
	if err != nil {
		return err
	}
	page, err := a.keys.List(r.Context(), size, after)
	if err != nil {
		return err
	}
	body := apiKeysBody{APIKeys: make([]apiKeyJSON, len(page.Keys)), Meta: listMeta{PageSize: size, HasMore: page.Next != ""}}
	for i, k := range page.Keys {
		body.APIKeys[i] = newAPIKeyJSON(k, "")
	}
	body.Links.Next = nextLink(r, values, "/api_keys", page.Next)
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (a *api) getAPIKey(w http.ResponseWriter, r *http.Request) error {
	k, err := a.keys.Key(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apiKeyBody{newAPIKeyJSON(k, "")})
	return nil
}

func (a *api) deleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := a.keys.Revoke(r.Context(), info(r).caller, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
