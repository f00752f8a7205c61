package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// MaxDepth bounds the nesting of JSON bodies.
const MaxDepth = 32

// readObject reads a request body that must be a JSON object holding one
// object under wrapper (e.g. "ticket"), and returns that object's members.
// Other top-level members are recorded as problems.
func readObject(w http.ResponseWriter, r *http.Request, wrapper string, problems *helpdesk.Problems) (map[string]json.RawMessage, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return parseObject(body, wrapper, problems)
}

// readBody reads a request body of at most MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, helpdesk.Errorf(helpdesk.CodePayloadTooLarge, "The request body exceeds %d bytes.", MaxBodyBytes)
	}
	if err != nil {
		return nil, helpdesk.Errorf(helpdesk.CodeBadRequest, "The request body could not be read.")
	}
	return body, nil
}

// parseObject is readObject after the body has been read.
func parseObject(body []byte, wrapper string, problems *helpdesk.Problems) (map[string]json.RawMessage, error) {
	_, fields, err := parseMembers(body, wrapper, nil, problems)
	return fields, err
}

// parseMembers is parseObject for a body that may hold, beside wrapper,
// the top-level members named in others: it returns them too, in top.
func parseMembers(body []byte, wrapper string, others []string, problems *helpdesk.Problems) (top, fields map[string]json.RawMessage, err error) {
	// RFC 8259 lets a parser ignore a leading byte-order mark; some
	// Windows tools write one.
	body = bytes.TrimSpace(bytes.TrimPrefix(body, utf8BOM))
	if len(body) == 0 {
		return nil, nil, helpdesk.Errorf(helpdesk.CodeBadRequest, "The request body is empty; send {\"%s\": {...}}.", wrapper)
	}
	if !json.Valid(body) {
		return nil, nil, helpdesk.Errorf(helpdesk.CodeBadRequest, "The request body is not valid JSON.")
	}
	if depth(body) > MaxDepth {
		return nil, nil, &helpdesk.Error{Code: helpdesk.CodeValidation, Message: "The request has invalid fields.",
			Details: []helpdesk.FieldError{{Field: wrapper, Message: fmt.Sprintf("nests deeper than %d levels", MaxDepth)}}}
	}
	// encoding/json keeps the last of repeated keys; a client that sent
	// two values meant one of them, and the API cannot tell which.
	if at, dup := duplicateKey(body); dup {
		return nil, nil, helpdesk.Errorf(helpdesk.CodeBadRequest, "The request body repeats the key %q; send each key of an object once.", shownField(at))
	}
	if body[0] != '{' || json.Unmarshal(body, &top) != nil {
		return nil, nil, helpdesk.Errorf(helpdesk.CodeBadRequest, "The request body must be a JSON object such as {\"%s\": {...}}.", wrapper)
	}
	inner, ok := top[wrapper]
	if !ok || len(inner) == 0 || inner[0] != '{' {
		return nil, nil, helpdesk.Errorf(helpdesk.CodeBadRequest, "The request body must contain a %q object.", wrapper)
	}
	for _, k := range slices.Sorted(maps.Keys(top)) {
		if k != wrapper && !slices.Contains(others, k) {
			problems.Add(k, "is not a known field")
		}
	}
	if err := json.Unmarshal(inner, &fields); err != nil {
		return nil, nil, helpdesk.Errorf(helpdesk.CodeBadRequest, "The %q member must be a JSON object.", wrapper)
	}
	return top, fields, nil
}

// utf8BOM is the UTF-8 byte-order mark.
var utf8BOM = []byte("\xef\xbb\xbf")

// duplicateKey reports the first key that an object of valid JSON holds
// twice (compared after unescaping, as a decoder sees them), with its
// path: "ticket.customFields[1].id".
func duplicateKey(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // no number conversions: only the keys matter
	at, dup, _ := repeatedKey(dec, "")
	return at, dup
}

// repeatedKey reads one value from dec and reports its first repeated
// key. The nesting is bounded by MaxDepth, checked before.
func repeatedKey(dec *json.Decoder, at string) (string, bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", false, err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return "", false, err
			}
			key, _ := tok.(string)
			member := key
			if at != "" {
				member = at + "." + key
			}
			if seen[key] {
				return member, true, nil
			}
			seen[key] = true
			if where, dup, err := repeatedKey(dec, member); dup || err != nil {
				return where, dup, err
			}
		}
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if where, dup, err := repeatedKey(dec, fmt.Sprintf("%s[%d]", at, i)); dup || err != nil {
				return where, dup, err
			}
		}
	default:
		return "", false, nil
	}
	_, err = dec.Token() // the closing delimiter
	return "", false, err
}

// depth returns the deepest nesting of objects and arrays in valid JSON.
func depth(b []byte) int {
	d, deepest, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			d++
			deepest = max(deepest, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return deepest
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// decodeString decodes a JSON string; null and other types are problems.
func decodeString(raw json.RawMessage, field string, problems *helpdesk.Problems) (string, bool) {
	var s string
	if isNull(raw) || json.Unmarshal(raw, &s) != nil {
		problems.Add(field, "must be a string")
		return "", false
	}
	return s, true
}

// decodeNullable decodes a JSON string or null.
func decodeNullable(raw json.RawMessage, field string, problems *helpdesk.Problems) helpdesk.Nullable[string] {
	if isNull(raw) {
		return helpdesk.Nullable[string]{Set: true, Null: true}
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		problems.Add(field, "must be a string or null")
		return helpdesk.Nullable[string]{}
	}
	return helpdesk.Nullable[string]{Set: true, Value: s}
}

// decodeStrings decodes a JSON array of strings. Entries that are not
// strings are recorded as problems and kept as "" so that the other
// entries keep their positions for validation.
func decodeStrings(raw json.RawMessage, field string, problems *helpdesk.Problems) *[]string {
	var items []json.RawMessage
	if isNull(raw) || json.Unmarshal(raw, &items) != nil {
		problems.Add(field, "must be an array of strings")
		return nil
	}
	out := make([]string, len(items))
	for i, item := range items {
		out[i], _ = decodeString(item, fmt.Sprintf("%s[%d]", field, i), problems)
	}
	return &out
}

// decodeScalar decodes a custom field value: a string, a number (kept
// exactly, a helpdesk.Number, or a problem when DynamoDB could not hold
// it) or a boolean.
func decodeScalar(raw json.RawMessage, field string, problems *helpdesk.Problems) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil {
		switch x := v.(type) {
		case string, bool:
			return x, true
		case json.Number:
			n, err := helpdesk.ParseNumber(string(x))
			if err != nil {
				problems.Add(field, "%s", helpdesk.ErrorMessage(err))
				return nil, false
			}
			return n, true
		}
	}
	problems.Add(field, "must be a string, a number or a boolean")
	return nil, false
}

// decodeTicketPatch decodes the members of a "ticket" object.
func decodeTicketPatch(fields map[string]json.RawMessage, problems *helpdesk.Problems) *helpdesk.TicketPatch {
	const prefix = "ticket."
	p := &helpdesk.TicketPatch{}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		raw, field := fields[k], prefix+k
		switch k {
		case "subject":
			if s, ok := decodeString(raw, field, problems); ok {
				p.Subject = &s
			}
		case "status":
			if s, ok := decodeString(raw, field, problems); ok {
				v := helpdesk.Status(s)
				p.Status = &v
			}
		case "priority":
			if s, ok := decodeString(raw, field, problems); ok {
				v := helpdesk.Priority(s)
				p.Priority = &v
			}
		case "type":
			if s, ok := decodeString(raw, field, problems); ok {
				v := helpdesk.Type(s)
				p.Type = &v
			}
		case "assigneeId":
			p.AssigneeID = decodeNullable(raw, field, problems)
		case "requesterEmail":
			p.RequesterEmail = decodeNullable(raw, field, problems)
		case "requesterName":
			p.RequesterName = decodeNullable(raw, field, problems)
		case "tags":
			p.Tags = decodeStrings(raw, field, problems)
		case "addTags":
			p.AddTags = decodeStrings(raw, field, problems)
		case "removeTags":
			p.RemoveTags = decodeStrings(raw, field, problems)
		case "customFields":
			p.CustomFields = decodeCustomValues(raw, field, problems)
		case "id", "createdAt", "updatedAt":
			problems.Add(field, "is read-only")
		default:
			problems.Add(field, "is not a known field")
		}
	}
	return p
}

// decodeCustomValues decodes a customFields array. A null value means
// "remove this field". An entry that does not decode is kept as a
// placeholder, with its problems recorded, so that later entries keep their
// positions.
func decodeCustomValues(raw json.RawMessage, field string, problems *helpdesk.Problems) []helpdesk.CustomFieldChange {
	var items []json.RawMessage
	if isNull(raw) || json.Unmarshal(raw, &items) != nil {
		problems.Add(field, `must be an array of {"id": ..., "value": ...} objects`)
		return nil
	}
	changes := make([]helpdesk.CustomFieldChange, 0, len(items))
	for i, item := range items {
		at := fmt.Sprintf("%s[%d]", field, i)
		var c helpdesk.CustomFieldChange
		changes = append(changes, c)
		var members map[string]json.RawMessage
		if isNull(item) || json.Unmarshal(item, &members) != nil {
			problems.Add(at, `must be an {"id": ..., "value": ...} object`)
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(members)) {
			if k != "id" && k != "value" {
				problems.Add(at+"."+k, "is not a known field")
			}
		}
		if rawID, has := members["id"]; has {
			c.ID, _ = decodeString(rawID, at+".id", problems)
		} else {
			problems.Add(at+".id", "is required")
		}
		switch rawValue, has := members["value"]; {
		case !has:
			problems.Add(at+".value", "is required (null removes the value)")
		case isNull(rawValue):
			c.Remove = true
		default:
			c.Value, _ = decodeScalar(rawValue, at+".value", problems)
		}
		changes[i] = c
	}
	return changes
}

// decodeFieldPatch decodes the members of a "customField" object.
func decodeFieldPatch(fields map[string]json.RawMessage, problems *helpdesk.Problems) *helpdesk.CustomFieldPatch {
	const prefix = "customField."
	p := &helpdesk.CustomFieldPatch{}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		raw, field := fields[k], prefix+k
		switch k {
		case "name":
			if s, ok := decodeString(raw, field, problems); ok {
				p.Name = &s
			}
		case "type":
			if s, ok := decodeString(raw, field, problems); ok {
				v := helpdesk.FieldType(s)
				p.Type = &v
			}
		case "options":
			p.Options = decodeStrings(raw, field, problems)
		case "id", "createdAt", "updatedAt":
			problems.Add(field, "is read-only")
		default:
			problems.Add(field, "is not a known field")
		}
	}
	return p
}
