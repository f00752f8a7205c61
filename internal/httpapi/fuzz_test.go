package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
)

// The body fuzz targets run a body through the handlers' own steps
// (parseObject, the decoder, Validate, Apply) and check what comes out
// against the limits the README states, written out again here rather than
// taken from the code under test. What is accepted must also survive a
// client echoing it back: the API's view of the result, sent as a body,
// must be accepted and change nothing.

// FuzzDecodeTicket feeds arbitrary bodies to the ticket decoder and
// validator, as a create and as an update of a ticket that holds the
// maximum number of custom field values.
func FuzzDecodeTicket(f *testing.F) {
	for _, seed := range []string{
		`{"ticket": {"subject": "Cannot log in", "status": "open", "tags": ["a", " a "]}}`,
		`{"ticket": {"subject": "x", "assigneeId": null, "requesterEmail": "a@b.co", "customFields": [{"id": "cf_a", "value": null}]}}`,
		`{"ticket": {"subject": 1, "tags": [1, "", null]}, "x": []}`,
		`{"ticket": {"subject": "\u00e9\ud800", "customFields": [{"id": "cf_a", "value": {"deep": [[[]]]}}]}}`,
		`{"ticket": {"subject": " s ", "customFields": [{"id": "cf_new", "value": "2026-01-31"}, {"id": "cf_b", "value": 1.5}, {"id": "cf_c", "value": true}]}}`,
		`{"ticket": {"subject": "s", "customFields": [{"id": "cf_a", "value": 12345678901234567890123}, {"id": "cf_b", "value": -1.50e-3}, {"id": "cf_c", "value": 1e200}]}}`,
		`{"ticket": {"subject": "s", "customFields": [{"id": "cf_a", "value": 1}, {"id": "cf_a", "value": null}]}}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`{"ticket": "nope"}`, ``, `{`, `null`,
		`{"ticket": {"subject": "a", "subject": "b"}}`,
		`{"ticket": {"subject": "s", "customFields": [{"id": "cf_a", "value": 1, "\u0076alue": 2}]}}`,
		"\xef\xbb\xbf{\"ticket\": {\"subject\": \"with a byte-order mark\"}}",
	} {
		f.Add([]byte(seed))
	}
	existing := fullTicket()
	f.Fuzz(func(t *testing.T, body []byte) {
		var problems helpdesk.Problems
		fields, err := parseObject(body, "ticket", &problems)
		if err != nil {
			checkParseError(t, err, "ticket")
			return
		}
		for _, creating := range []bool{true, false} {
			found := slices.Clone(problems)
			p := decodeTicketPatch(fields, &found)
			defs := definitionsFor(p.CustomFields)
			p.Validate("ticket.", defs, &found)
			checkProblems(t, body, "ticket", found)
			again := slices.Clone(problems)
			decodeTicketPatch(fields, &again).Validate("ticket.", defs, &again)
			if !reflect.DeepEqual(found, again) {
				t.Fatalf("the same body gave other problems:\n%v\n%v", found, again)
			}
			if found.Err() != nil {
				continue
			}
			tk := helpdesk.NewTicket("tkt_fuzz", time.Now())
			if !creating {
				tk = existing.Clone()
			}
			changed := p.Apply(tk)
			if creating && p.Subject == nil {
				// The service answers "subject is required" on create.
				continue
			}
			var over helpdesk.Problems
			tk.CheckLimits("ticket.", &over)
			checkProblems(t, body, "ticket", over)
			switch {
			case over.Err() != nil && creating:
				t.Fatalf("a validated create broke a limit: %v", over)
			case over.Err() != nil:
				continue // the service refuses the update, so nothing is stored
			}
			checkTicket(t, tk)
			if !creating {
				continue
			}
			if !changed && p.Subject != nil {
				t.Fatal("a create with a subject reported no change")
			}
			// The API's view of the ticket, read-only fields left out, is
			// accepted and applies to the same ticket.
			echo := echoBody(t, "ticket", view.Ticket(tk), "id", "createdAt", "updatedAt")
			var echoProblems helpdesk.Problems
			echoFields, err := parseObject(echo, "ticket", &echoProblems)
			if err != nil {
				t.Fatalf("echo %s: %v", echo, err)
			}
			ep := decodeTicketPatch(echoFields, &echoProblems)
			ep.Validate("ticket.", defs, &echoProblems)
			if echoProblems.Err() != nil {
				t.Fatalf("echo %s of an accepted ticket was refused: %v", echo, echoProblems)
			}
			if ep.Apply(tk) {
				t.Fatalf("echo %s changed the ticket it came from", echo)
			}
			fresh := helpdesk.NewTicket("tkt_fuzz", time.Now())
			ep.Apply(fresh)
			if !fresh.SameContent(tk) {
				t.Fatalf("echo %s made another ticket:\n%+v\nwant\n%+v", echo, fresh, tk)
			}
		}
	})
}

// FuzzDecodeCustomField feeds arbitrary bodies to the custom field
// decoder and validator, as a create and as updates of a dropdown and a
// text definition.
func FuzzDecodeCustomField(f *testing.F) {
	for _, seed := range []string{
		`{"customField": {"name": "Plan", "type": "dropdown", "options": ["Pro", "Enterprise"]}}`,
		`{"customField": {"name": " Seats ", "type": "number"}}`,
		`{"customField": {"name": "Plan", "type": "dropdown", "options": ["a", " a", ""]}}`,
		`{"customField": {"name": "x", "type": "text", "options": []}}`,
		`{"customField": {"options": ["Free"]}}`,
		`{"customField": {"type": "checkbox", "id": "cf_x"}, "other": 1}`,
		`{"customField": {"name": null, "type": 5, "options": "a"}}`,
		`{"customField": []}`,
	} {
		f.Add([]byte(seed))
	}
	now := time.Now()
	olds := []*helpdesk.CustomField{
		nil,
		{ID: "cf_plan", Name: "Plan", Type: helpdesk.FieldDropdown, Options: []string{"Pro", "Enterprise"}, CreatedAt: now, UpdatedAt: now},
		{ID: "cf_note", Name: "Note", Type: helpdesk.FieldText, Options: []string{}, CreatedAt: now, UpdatedAt: now},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var problems helpdesk.Problems
		fields, err := parseObject(body, "customField", &problems)
		if err != nil {
			checkParseError(t, err, "customField")
			return
		}
		for _, old := range olds {
			found := slices.Clone(problems)
			p := decodeFieldPatch(fields, &found)
			p.Validate("customField.", old, &found)
			checkProblems(t, body, "customField", found)
			if found.Err() != nil {
				continue
			}
			def := &helpdesk.CustomField{ID: "cf_fuzz"}
			if old != nil {
				c := *old
				c.Options = slices.Clone(old.Options)
				def = &c
			}
			p.Apply(def)
			checkField(t, def, old)
			if old != nil {
				continue
			}
			echo := echoBody(t, "customField", view.NewCustomField(def), "id", "createdAt", "updatedAt")
			var echoProblems helpdesk.Problems
			echoFields, err := parseObject(echo, "customField", &echoProblems)
			if err != nil {
				t.Fatalf("echo %s: %v", echo, err)
			}
			ep := decodeFieldPatch(echoFields, &echoProblems)
			ep.Validate("customField.", nil, &echoProblems)
			if echoProblems.Err() != nil {
				t.Fatalf("echo %s of an accepted definition was refused: %v", echo, echoProblems)
			}
			if ep.Apply(def) {
				t.Fatalf("echo %s changed the definition it came from", echo)
			}
		}
	})
}

// FuzzDecodeWebhook feeds arbitrary bodies to the webhook decoder and
// validator, as a create and as an update of a disabled, failing
// subscription. The URL's reachability is FuzzCheckURL's (internal/ssrf).
func FuzzDecodeWebhook(f *testing.F) {
	for _, seed := range []string{
		`{"webhook": {"url": "https://example.com/hook", "events": ["ticket.created", "ticket.created"], "description": "CRM"}}`,
		`{"webhook": {"status": "active"}}`,
		`{"webhook": {"status": "paused", "events": []}}`,
		`{"webhook": {"url": "", "events": ["ticket.Created", 1]}}`,
		`{"webhook": {"secret": "whsec_x", "id": "whk_x"}, "webhooks": {}}`,
		`{"webhook": {"url": null, "description": null}}`,
	} {
		f.Add([]byte(seed))
	}
	since := time.Now().Add(-time.Hour)
	f.Fuzz(func(t *testing.T, body []byte) {
		var problems helpdesk.Problems
		fields, err := parseObject(body, "webhook", &problems)
		if err != nil {
			checkParseError(t, err, "webhook")
			return
		}
		for _, creating := range []bool{true, false} {
			found := slices.Clone(problems)
			p := decodeWebhookPatch(fields, &found)
			p.Validate("webhook.", creating, events.Types, &found)
			checkProblems(t, body, "webhook", found)
			if found.Err() != nil {
				continue
			}
			w := &helpdesk.Webhook{Status: helpdesk.WebhookActive}
			if !creating {
				w = &helpdesk.Webhook{URL: "https://example.com/old", Events: []string{events.TicketDeleted},
					Status: helpdesk.WebhookDisabled, FailingSince: since}
			}
			p.Apply(w)
			checkWebhook(t, w, creating)
			if w.Status == helpdesk.WebhookActive && !w.FailingSince.IsZero() {
				t.Fatal("a re-activated subscription kept its failures")
			}
			if !creating {
				continue
			}
			view := view.NewWebhook(w, false)
			echo := echoBody(t, "webhook", view, "id", "status", "createdAt", "updatedAt")
			var echoProblems helpdesk.Problems
			echoFields, err := parseObject(echo, "webhook", &echoProblems)
			if err != nil {
				t.Fatalf("echo %s: %v", echo, err)
			}
			ep := decodeWebhookPatch(echoFields, &echoProblems)
			ep.Validate("webhook.", true, events.Types, &echoProblems)
			if echoProblems.Err() != nil {
				t.Fatalf("echo %s of an accepted subscription was refused: %v", echo, echoProblems)
			}
			if ep.Apply(w) {
				t.Fatalf("echo %s changed the subscription it came from", echo)
			}
		}
	})
}

// FuzzParseListQuery feeds arbitrary query strings to the list endpoint's
// parsing, as the handler runs it. Whatever it accepts must be a query the
// store can serve and must say exactly what the query string says: every
// pair in it is a known parameter whose value the query carries, so that
// nothing is dropped and nothing lists more than was asked for.
func FuzzParseListQuery(f *testing.F) {
	for _, seed := range []string{
		"", "status=open&priority=high&assignee_id=usr_a&page_size=100&sort_by=priority&sort_order=asc",
		"page_size=0", "page_size=-1", "page_size=1e2", "page_size=%2B5", "status=open&status=new",
		"after=abc", "after=", "sort_by=status;drop", "assignee_id=usr_%00", "x=%zz",
		"status=open&&page_size=5", "assignee_id=usr_a%2Bb", "sort_order=asc&after=a+b%3D",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		values, ok := fuzzedQuery(t, raw)
		if !ok {
			return
		}
		q, err := parseListQuery(values)
		if err != nil {
			if c := helpdesk.ErrorCode(err); c != helpdesk.CodeBadRequest && c != helpdesk.CodeValidation {
				t.Fatalf("parser error with code %s: %v", c, err)
			}
			return
		}
		if q.PageSize < 1 || q.PageSize > helpdesk.MaxPageSize || !slices.Contains(helpdesk.SortFields, q.SortBy) ||
			(q.Order != helpdesk.Asc && q.Order != helpdesk.Desc) ||
			(q.Filter.Status != "" && !q.Filter.Status.Valid()) || (q.Filter.Priority != "" && !q.Filter.Priority.Valid()) ||
			(q.Filter.AssigneeID != "" && !helpdesk.ValidAssigneeID(q.Filter.AssigneeID)) {
			t.Fatalf("accepted %q as %+v", raw, q)
		}
		want := map[string]string{
			"status": string(q.Filter.Status), "priority": string(q.Filter.Priority), "assignee_id": q.Filter.AssigneeID,
			"page_size": fmt.Sprint(q.PageSize), "sort_by": string(q.SortBy), "sort_order": string(q.Order), "after": q.After,
		}
		seen := map[string]bool{}
		for pair := range strings.SplitSeq(raw, "&") {
			if pair == "" {
				continue
			}
			rawKey, rawValue, _ := strings.Cut(pair, "=")
			k, kerr := url.QueryUnescape(rawKey)
			v, verr := url.QueryUnescape(rawValue)
			switch {
			case kerr != nil || verr != nil || strings.Contains(pair, ";"):
				t.Fatalf("accepted %q with the malformed pair %q", raw, pair)
			case !slices.Contains(listParams, k):
				t.Fatalf("accepted %q with the unknown parameter %q", raw, k)
			case seen[k]:
				t.Fatalf("accepted %q with %q given twice", raw, k)
			case want[k] != v:
				t.Fatalf("accepted %q: %q is %q in the query %+v", raw, k, v, q)
			}
			seen[k] = true
		}
		defaults := helpdesk.ListQuery{SortBy: helpdesk.SortCreatedAt, Order: helpdesk.Desc, PageSize: helpdesk.DefaultPageSize}
		for k, v := range map[string]bool{
			"status": q.Filter.Status == "", "priority": q.Filter.Priority == "", "assignee_id": q.Filter.AssigneeID == "",
			"page_size": q.PageSize == defaults.PageSize, "sort_by": q.SortBy == defaults.SortBy,
			"sort_order": q.Order == defaults.Order, "after": q.After == "",
		} {
			if !seen[k] && !v {
				t.Fatalf("accepted %q: %q is absent but the query %+v sets it", raw, k, q)
			}
		}
	})
}

// checkParseError fails unless err is an error parseObject may give: a
// bad request, or a body nested too deeply, named by its wrapper.
func checkParseError(t *testing.T, err error, wrapper string) {
	t.Helper()
	switch helpdesk.ErrorCode(err) {
	case helpdesk.CodeBadRequest:
	case helpdesk.CodeValidation:
		if d := helpdesk.ErrorDetails(err); len(d) != 1 || d[0].Field != wrapper {
			t.Fatalf("validation error with details %v", d)
		}
	default:
		t.Fatalf("decoder error with code %s: %v", helpdesk.ErrorCode(err), err)
	}
}

// checkProblems fails unless every problem has a message and names a field
// of the wrapped object or another member of the body's top level.
func checkProblems(t *testing.T, body []byte, wrapper string, problems helpdesk.Problems) {
	t.Helper()
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")) // accepted, as RFC 8259 allows
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatalf("parseObject accepted a body that is not an object: %v", err)
	}
	checkNoRepeatedKeys(t, body)
	for _, p := range problems {
		_, member := top[p.Field]
		if p.Message == "" || !strings.HasPrefix(p.Field, wrapper+".") && (!member || p.Field == wrapper) {
			t.Fatalf("problem %+v names no field of the body", p)
		}
	}
}

// checkNoRepeatedKeys fails when an accepted body repeats a key in one of
// its objects: every colon outside a string separates a key from its
// value, so a body without repeats has as many colons as its decoded
// objects have members.
func checkNoRepeatedKeys(t *testing.T, body []byte) {
	t.Helper()
	colons, inString, escaped := 0, false, false
	for _, c := range body {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && c == ':':
			colons++
		}
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("accepted a body that is not JSON: %v", err)
	}
	if members := countMembers(v); members != colons {
		t.Fatalf("accepted a body with a repeated key (%d keys, %d distinct): %q", colons, members, body)
	}
}

// countMembers counts the members of every object in a decoded value.
func countMembers(v any) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		n += len(x)
		for _, m := range x {
			n += countMembers(m)
		}
	case []any:
		for _, m := range x {
			n += countMembers(m)
		}
	}
	return n
}

// definitionsFor returns what the service would load for changes: a
// definition for each well-formed id, here of the type its value has (a
// date-shaped string makes a date field), so that validation checks the
// values themselves.
func definitionsFor(changes []helpdesk.CustomFieldChange) map[string]*helpdesk.CustomField {
	defs := map[string]*helpdesk.CustomField{}
	for _, c := range changes {
		if !helpdesk.ValidCustomFieldID(c.ID) {
			continue
		}
		typ := helpdesk.FieldText
		switch v := c.Value.(type) {
		case helpdesk.Number:
			typ = helpdesk.FieldNumber
		case bool:
			typ = helpdesk.FieldCheckbox
		case string:
			if _, err := time.Parse(time.DateOnly, v); err == nil {
				typ = helpdesk.FieldDate
			}
		}
		defs[c.ID] = &helpdesk.CustomField{ID: c.ID, Type: typ}
	}
	return defs
}

// fullTicket returns a stored ticket with the most custom field values a
// ticket may hold, and some of everything else.
func fullTicket() *helpdesk.Ticket {
	tk := helpdesk.NewTicket("tkt_full", time.Now())
	tk.Subject, tk.AssigneeID, tk.Tags = "Full", "usr_a", []string{"a", "b"}
	for i := range helpdesk.MaxCustomFieldValues {
		tk.CustomFields = append(tk.CustomFields, helpdesk.CustomFieldValue{ID: fmt.Sprintf("cf_full%c%c", 'a'+i/26, 'a'+i%26), Value: "v"})
	}
	return tk
}

// checkTicket fails unless tk keeps every limit of a stored ticket.
func checkTicket(t *testing.T, tk *helpdesk.Ticket) {
	t.Helper()
	for _, s := range append([]string{tk.Subject, tk.AssigneeID, tk.RequesterEmail, tk.RequesterName}, tk.Tags...) {
		if !utf8.ValidString(s) {
			t.Fatalf("accepted invalid UTF-8 %q", s)
		}
	}
	if n := utf8.RuneCountInString(tk.Subject); n == 0 || n > 500 || strings.TrimSpace(tk.Subject) != tk.Subject {
		t.Fatalf("accepted subject %q", tk.Subject)
	}
	if !tk.Status.Valid() || !tk.Priority.Valid() || !tk.Type.Valid() {
		t.Fatalf("accepted status %q, priority %q, type %q", tk.Status, tk.Priority, tk.Type)
	}
	if tk.AssigneeID != "" && !helpdesk.ValidAssigneeID(tk.AssigneeID) {
		t.Fatalf("accepted assignee %q", tk.AssigneeID)
	}
	if e := tk.RequesterEmail; e != "" {
		addr, err := mail.ParseAddress(e)
		if len(e) > 254 || err != nil || addr.Address != e || addr.Name != "" {
			t.Fatalf("accepted requester email %q", e)
		}
	}
	if n := utf8.RuneCountInString(tk.RequesterName); n > 255 {
		t.Fatalf("accepted a requester name of %d characters", n)
	}
	if len(tk.Tags) > 50 {
		t.Fatalf("accepted %d tags", len(tk.Tags))
	}
	for i, tag := range tk.Tags {
		if n := utf8.RuneCountInString(tag); n == 0 || n > 100 || strings.TrimSpace(tag) != tag || slices.Contains(tk.Tags[:i], tag) {
			t.Fatalf("accepted tags %q", tk.Tags)
		}
	}
	if len(tk.CustomFields) > 100 {
		t.Fatalf("accepted %d custom field values", len(tk.CustomFields))
	}
	for i, c := range tk.CustomFields {
		if !helpdesk.ValidCustomFieldID(c.ID) || slices.ContainsFunc(tk.CustomFields[:i], func(o helpdesk.CustomFieldValue) bool { return o.ID == c.ID }) {
			t.Fatalf("accepted custom field id %q (duplicate or malformed)", c.ID)
		}
		switch v := c.Value.(type) {
		case string:
			if !utf8.ValidString(v) || utf8.RuneCountInString(v) > 1000 {
				t.Fatalf("accepted custom field value %q", v)
			}
		case helpdesk.Number:
			checkNumber(t, v)
		case bool:
		default:
			t.Fatalf("accepted custom field value %#v", v)
		}
	}
}

// checkNumber fails unless n is a JSON number that DynamoDB holds
// exactly: at most 38 significant digits, 0 or a magnitude from 1e-130 to
// below 1e126 (a float64 rounds the top to 1e126).
func checkNumber(t *testing.T, n helpdesk.Number) {
	t.Helper()
	mantissa, _, _ := strings.Cut(strings.ToLower(strings.TrimPrefix(string(n), "-")), "e")
	digits := strings.Trim(strings.Replace(mantissa, ".", "", 1), "0")
	f, err := strconv.ParseFloat(string(n), 64)
	if !json.Valid([]byte(n)) || len(digits) > 38 || err != nil || f != 0 && (math.Abs(f) < 1e-130 || math.Abs(f) > 1e126) {
		t.Fatalf("accepted custom field value %s", n)
	}
}

// checkField fails unless f is a definition the store may keep, of old's
// type if old is not nil.
func checkField(t *testing.T, f, old *helpdesk.CustomField) {
	t.Helper()
	if n := utf8.RuneCountInString(f.Name); !utf8.ValidString(f.Name) || n == 0 || n > 100 || strings.TrimSpace(f.Name) != f.Name {
		t.Fatalf("accepted name %q", f.Name)
	}
	if !slices.Contains(helpdesk.FieldTypes, f.Type) || old != nil && f.Type != old.Type {
		t.Fatalf("accepted type %q (was %v)", f.Type, old)
	}
	if f.Options == nil || f.Type != helpdesk.FieldDropdown && len(f.Options) > 0 || f.Type == helpdesk.FieldDropdown && (len(f.Options) == 0 || len(f.Options) > 100) {
		t.Fatalf("accepted %s field with options %q", f.Type, f.Options)
	}
	for i, o := range f.Options {
		if n := utf8.RuneCountInString(o); !utf8.ValidString(o) || n == 0 || n > 100 || strings.TrimSpace(o) != o || slices.Contains(f.Options[:i], o) {
			t.Fatalf("accepted options %q", f.Options)
		}
	}
}

// checkWebhook fails unless w is a subscription the store may keep.
func checkWebhook(t *testing.T, w *helpdesk.Webhook, creating bool) {
	t.Helper()
	if w.URL == "" || len(w.URL) > 2048 || !utf8.ValidString(w.URL) {
		t.Fatalf("accepted url %q", w.URL)
	}
	if len(w.Events) == 0 {
		t.Fatal("accepted a subscription to no events")
	}
	for i, e := range w.Events {
		if !events.Known(e) || slices.Contains(w.Events[:i], e) {
			t.Fatalf("accepted events %q", w.Events)
		}
	}
	if n := utf8.RuneCountInString(w.Description); n > 500 || !utf8.ValidString(w.Description) {
		t.Fatalf("accepted a description of %d characters", n)
	}
	if w.Status != helpdesk.WebhookActive && (creating || w.Status != helpdesk.WebhookDisabled) {
		t.Fatalf("accepted status %q (create %v)", w.Status, creating)
	}
}

// echoBody returns view as a request body under wrapper, without the
// members a client may not send.
func echoBody(t *testing.T, wrapper string, view any, readOnly ...string) []byte {
	t.Helper()
	b, err := json.Marshal(view)
	if err != nil {
		t.Fatal(err)
	}
	var members map[string]any
	if err := json.Unmarshal(b, &members); err != nil {
		t.Fatal(err)
	}
	for _, k := range readOnly {
		delete(members, k)
	}
	body, err := json.Marshal(map[string]any{wrapper: members})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// Comment limits as the contract states them.
const (
	commentBodyMaxBytes  = 65536
	authorIDMaxLen       = 128
	authorEmailMaxLen    = 254
	authorNameMaxRunes   = 255
	commentPageSizeFirst = 25
	commentPageSizeMax   = 100
)

var agentIDShape = regexp.MustCompile(`^usr_[A-Za-z0-9._-]+$`)

// FuzzDecodeComment feeds arbitrary bodies to the comment decoder and
// validator, as the create handler runs them. A comment it accepts has a
// body of 1 to 65,536 bytes that is not blank and exactly one author: an
// agent (a well-formed authorId, no authorName) or a customer (a bare email
// address, a name of at most 255 characters); an internal note has an
// agent author; and the draft says exactly what the body said. A body it
// refuses is refused for the fields that are wrong. What it accepts must
// survive a client echoing the API's view of the comment back.
func FuzzDecodeComment(f *testing.F) {
	for _, seed := range []string{
		`{"comment": {"body": "Have you tried turning it off and on again?", "authorId": "usr_alice"}}`,
		`{"comment": {"body": "Escalated.", "public": false, "authorId": "usr_a.b-c_d", "authorEmail": null, "authorName": null}}`,
		`{"comment": {"body": " still broken ", "public": true, "authorEmail": "ada@example.com", "authorName": "Ada Lovelace"}}`,
		`{"comment": {"body": "note", "public": false, "authorEmail": "ada@example.com"}}`,
		`{"comment": {"body": "both", "authorId": "usr_a", "authorEmail": "ada@example.com", "authorName": "Ada"}}`,
		`{"comment": {"body": " \t\n", "authorId": "usr_a"}}`,
		`{"comment": {"body": "", "authorId": ""}}`,
		`{"comment": {"body": "\u00e9\ud800", "authorEmail": "Ada <ada@example.com>"}}`,
		`{"comment": {"body": 1, "public": "yes", "authorId": 2, "authorName": []}}`,
		`{"comment": {"id": "cmt_x", "ticketId": "tkt_x", "createdAt": "x", "redactedAt": null, "color": "red"}, "ticket": {}}`,
		`{"comment": {"body": "x", "authorId": "usr_` + strings.Repeat("a", 125) + `"}}`,
		`{"comment": {}}`, `{"comment": []}`, `{"comment": null}`, `[]`, ``,
		`{"comment": {"body": "x", "authorId": "usr_a", "uploads": ["upl_abcdefghijklmnopqrstuvwx", "upl_234567abcdefghijklmnopqr"]}}`,
		`{"comment": {"body": "x", "authorId": "usr_a", "uploads": ["upl_abcdefghijklmnopqrstuvwx", "upl_abcdefghijklmnopqrstuvwx"]}}`,
		`{"comment": {"body": "x", "authorId": "usr_a", "uploads": ["upl_ABCDEFGHIJKLMNOPQRSTUVWX", 3, null]}}`,
		`{"comment": {"body": "x", "authorId": "usr_a", "uploads": "upl_abcdefghijklmnopqrstuvwx", "attachments": []}}`,
		// At the byte limit, in two-byte characters, and one byte past it.
		`{"comment": {"body": "` + strings.Repeat("é", 32768) + `", "authorId": "usr_a"}}`,
		`{"comment": {"body": "` + strings.Repeat("é", 32768) + `.", "authorId": "usr_a"}}`,
	} {
		f.Add([]byte(seed))
	}
	at := time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var problems helpdesk.Problems
		fields, err := parseObject(body, "comment", &problems)
		if err != nil {
			checkParseError(t, err, "comment")
			return
		}
		found := slices.Clone(problems)
		d := decodeCommentDraft(fields, &found)
		d.Validate("comment.", &found)
		checkProblems(t, body, "comment", found)
		again := slices.Clone(problems)
		decodeCommentDraft(fields, &again).Validate("comment.", &again)
		if !reflect.DeepEqual(found, again) {
			t.Fatalf("the same body gave other problems:\n%v\n%v", found, again)
		}
		checkCommentRefusals(t, fields, found)
		if found.Err() != nil {
			return
		}
		if len(problems) > 0 {
			t.Fatalf("accepted a body with other top-level members: %v", problems)
		}
		checkCommentDraft(t, fields, d)

		// The API's view of the comment, read-only members left out, is
		// accepted as the same comment.
		id, email, name := authors(d)
		c := &helpdesk.Comment{ID: helpdesk.NewCommentID(at), TicketID: "tkt_fuzz", Body: *d.Body, Public: d.Public == nil || *d.Public,
			AuthorID: id, AuthorEmail: email, AuthorName: name, CreatedAt: at}
		echo := echoBody(t, "comment", view.Comment(c), "id", "ticketId", "createdAt", "redactedAt", "attachments")
		var echoProblems helpdesk.Problems
		echoFields, err := parseObject(echo, "comment", &echoProblems)
		if err != nil {
			t.Fatalf("echo %s: %v", echo, err)
		}
		e := decodeCommentDraft(echoFields, &echoProblems)
		e.Validate("comment.", &echoProblems)
		if echoProblems.Err() != nil {
			t.Fatalf("echo %s of an accepted comment was refused: %v", echo, echoProblems)
		}
		if eID, eEmail, eName := authors(e); *e.Body != c.Body || e.Public == nil || *e.Public != c.Public || eID != c.AuthorID || eEmail != c.AuthorEmail || eName != c.AuthorName {
			t.Fatalf("echo %s made another comment: %+v, want %+v", echo, e, c)
		}
	})
}

// checkCommentDraft fails unless an accepted draft is a comment the
// contract allows and holds what the comment object's members said.
func checkCommentDraft(t *testing.T, fields map[string]json.RawMessage, d *helpdesk.CommentDraft) {
	t.Helper()
	for k := range fields {
		if !slices.Contains([]string{"body", "public", "authorId", "authorEmail", "authorName", "uploads"}, k) {
			t.Fatalf("accepted the member %q", k)
		}
	}
	// Uploads are what the member said: at most ten distinct ids of the
	// shape POST /uploads makes.
	var uploads []string
	if raw, ok := fields["uploads"]; ok && json.Unmarshal(raw, &uploads) != nil {
		t.Fatalf("accepted uploads %s", raw)
	}
	if len(uploads) > 10 || !slices.Equal(uploads, d.Uploads) {
		t.Fatalf("uploads %v became %v", uploads, d.Uploads)
	}
	for i, id := range uploads {
		if !uploadIDShape.MatchString(id) || slices.Contains(uploads[:i], id) {
			t.Fatalf("accepted the upload %q in %v", id, uploads)
		}
	}
	if d.Body == nil {
		t.Fatal("accepted a comment without a body")
	}
	b := *d.Body
	if len(b) == 0 || len(b) > commentBodyMaxBytes || !utf8.ValidString(b) || strings.TrimFunc(b, unicode.IsSpace) == "" {
		t.Fatalf("accepted the body %q (%d bytes)", b, len(b))
	}
	authorID, authorEmail, authorName := authors(d)
	agent, customer := authorID != "", authorEmail != ""
	switch {
	case agent == customer:
		t.Fatalf("accepted a comment with authorId %q and authorEmail %q: it needs exactly one author", authorID, authorEmail)
	case agent:
		if !agentIDShape.MatchString(authorID) || len(authorID) > authorIDMaxLen || authorName != "" {
			t.Fatalf("accepted the agent %q with the name %q", authorID, authorName)
		}
	case customer:
		addr, err := mail.ParseAddress(authorEmail)
		if len(authorEmail) > authorEmailMaxLen || err != nil || addr.Address != authorEmail || addr.Name != "" {
			t.Fatalf("accepted the customer %q", authorEmail)
		}
		if utf8.RuneCountInString(authorName) > authorNameMaxRunes || !utf8.ValidString(authorName) {
			t.Fatalf("accepted the name %q", authorName)
		}
		if d.Public != nil && !*d.Public {
			t.Fatal("accepted an internal note by a customer")
		}
	}
	// The draft is what the members said: null and absent authors alike
	// are none, and public is given or left to its default.
	str := func(name string) string {
		raw, ok := fields[name]
		if !ok || string(raw) == "null" {
			return ""
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("accepted %s = %s", name, raw)
		}
		return s
	}
	if str("body") != b || str("authorId") != authorID || str("authorEmail") != authorEmail || str("authorName") != authorName {
		t.Fatalf("the draft %+v is not what %v said", d, fields)
	}
	raw, given := fields["public"]
	var public bool
	if given && (json.Unmarshal(raw, &public) != nil || string(raw) == "null" || d.Public == nil || *d.Public != public) || !given && d.Public != nil {
		t.Fatalf("public %s became %v", raw, d.Public)
	}
}

// authors returns the author members of a draft, "" for none (absent or
// null). The draft's members were strings and become
// helpdesk.Nullable[string] (an author given as "" then being refused);
// they are read through any so that this target builds on either side of
// that change.
func authors(d *helpdesk.CommentDraft) (id, email, name string) {
	read := func(v any) string {
		switch a := v.(type) {
		case string:
			return a
		case helpdesk.Nullable[string]:
			return a.Value // "" when null or absent
		}
		panic(fmt.Sprintf("a comment draft's author member of type %T", v))
	}
	return read(d.AuthorID), read(d.AuthorEmail), read(d.AuthorName)
}

// checkCommentRefusals fails unless the problems name what is plainly
// wrong with the comment object's members, whatever else is.
func checkCommentRefusals(t *testing.T, fields map[string]json.RawMessage, problems helpdesk.Problems) {
	t.Helper()
	for k := range fields {
		if !slices.Contains([]string{"body", "public", "authorId", "authorEmail", "authorName", "uploads"}, k) && !problems.Has("comment."+k) {
			t.Fatalf("the member %q is not refused: %v", k, problems)
		}
	}
	str := func(name string) (string, bool) {
		var s string
		raw, ok := fields[name]
		return s, ok && json.Unmarshal(raw, &s) == nil && string(raw) != "null"
	}
	if b, ok := str("body"); ok && (len(b) > commentBodyMaxBytes || strings.TrimFunc(b, unicode.IsSpace) == "") && !problems.Has("comment.body") {
		t.Fatalf("the body %.40q (%d bytes) is not refused: %v", b, len(b), problems)
	}
	if _, ok := fields["body"]; !ok && !problems.Has("comment.body") {
		t.Fatalf("a comment without a body is not refused: %v", problems)
	}
	var uploads []json.RawMessage
	if raw, ok := fields["uploads"]; ok && (json.Unmarshal(raw, &uploads) != nil || string(raw) == "null" || len(uploads) > 10) && !problems.Has("comment.uploads") {
		t.Fatalf("uploads %s are not refused: %v", raw, problems)
	}
	for i, raw := range uploads {
		var id string
		if (json.Unmarshal(raw, &id) != nil || !uploadIDShape.MatchString(id)) && len(uploads) <= 10 && !problems.Has(fmt.Sprintf("comment.uploads[%d]", i)) {
			t.Fatalf("the upload %s is not refused: %v", raw, problems)
		}
	}
	id, agent := str("authorId")
	email, customer := str("authorEmail")
	agent, customer = agent && id != "", customer && email != ""
	if agent && customer && !problems.Under("comment.authorId") && !problems.Under("comment.authorEmail") {
		t.Fatalf("two authors are not refused: %v", problems)
	}
	if name, ok := str("authorName"); agent && ok && name != "" && !problems.Has("comment.authorName") {
		t.Fatalf("an agent's authorName is not refused: %v", problems)
	}
	var public bool
	if raw, ok := fields["public"]; customer && ok && json.Unmarshal(raw, &public) == nil && string(raw) != "null" && !public && !problems.Has("comment.public") {
		t.Fatalf("a customer's internal note is not refused: %v", problems)
	}
}

// fuzzedQuery decodes a fuzzed query string as a list handler does: ok
// is false for one refused as malformed, which must be a 400.
func fuzzedQuery(t *testing.T, raw string) (url.Values, bool) {
	t.Helper()
	values, err := queryValues(raw)
	if err != nil {
		if c := helpdesk.ErrorCode(err); c != helpdesk.CodeBadRequest {
			t.Fatalf("query string error with code %s: %v", c, err)
		}
		return nil, false
	}
	return values, true
}

// checkRefusal fails unless a list's query parser refused raw (decoded
// as values) as it may: 400 only for an empty cursor, else 422 naming
// only parameters the query holds, each with a message.
func checkRefusal(t *testing.T, raw string, values url.Values, err error) {
	t.Helper()
	switch helpdesk.ErrorCode(err) {
	case helpdesk.CodeBadRequest:
		if a, ok := values["after"]; !ok || len(a) != 1 || a[0] != "" {
			t.Fatalf("%q refused as a bad request without an empty cursor: %v", raw, err)
		}
	case helpdesk.CodeValidation:
		details := helpdesk.ErrorDetails(err)
		if len(details) == 0 {
			t.Fatalf("%q refused without details: %v", raw, err)
		}
		for _, d := range details {
			if _, named := values[d.Field]; !named || d.Message == "" {
				t.Fatalf("%q refused for %+v, which is not a parameter of the query", raw, d)
			}
		}
	default:
		t.Fatalf("parser error with code %s: %v", helpdesk.ErrorCode(err), err)
	}
}

// FuzzCommentQuery feeds arbitrary query strings to the parsing of a
// conversation's list, as the handler runs it. What it accepts asks for
// 1 to 100 comments a page (25 unless page_size says otherwise), oldest
// first unless sort_order=desc, public replies or internal notes only when
// public says so, from the cursor after gives, and says exactly what the
// query string says: every pair is a known parameter, given once, whose
// value the query carries. Unknown or repeated parameters are refused (422
// naming them), like a bad cursor (400).
func FuzzCommentQuery(f *testing.F) {
	for _, seed := range []string{
		"", "page_size=100&sort_order=desc&public=false&after=abc", "sort_order=asc&public=true",
		"page_size=0", "page_size=101", "page_size=07", "page_size=%2B5", "page_size=1e2",
		"sort_order=DESC", "sort_order=", "public=TRUE", "public=1", "public=",
		"limit=5", "status=open", "after=", "page_size=1&page_size=1", "public=true&public=false",
		"sort_order=asc&x=%zz", "public=true;page_size=5", "after=a+b%3D&&page_size=2",
	} {
		f.Add(seed)
	}
	known := []string{"page_size", "after", "sort_order", "public"}
	f.Fuzz(func(t *testing.T, raw string) {
		values, ok := fuzzedQuery(t, raw)
		if !ok {
			return
		}
		q, err := parseCommentQuery("tkt_fuzz", values)
		if err != nil {
			checkRefusal(t, raw, values, err)
			return
		}
		if q.TicketID != "tkt_fuzz" || q.PageSize < 1 || q.PageSize > commentPageSizeMax || (q.Order != "asc" && q.Order != "desc") {
			t.Fatalf("accepted %q as %+v", raw, q)
		}
		public := ""
		if q.Public != nil {
			public = strconv.FormatBool(*q.Public)
		}
		want := map[string]string{"page_size": strconv.Itoa(q.PageSize), "sort_order": string(q.Order), "public": public, "after": q.After}
		for k, vs := range values {
			switch {
			case !slices.Contains(known, k):
				t.Fatalf("accepted %q with the unknown parameter %q", raw, k)
			case len(vs) != 1:
				t.Fatalf("accepted %q with %q given %d times", raw, k, len(vs))
			case vs[0] != want[k] || vs[0] == "":
				t.Fatalf("accepted %q: %q is %q in the query %+v", raw, k, vs[0], q)
			}
		}
		for k, isDefault := range map[string]bool{
			"page_size": q.PageSize == commentPageSizeFirst, "sort_order": q.Order == "asc", "public": q.Public == nil, "after": q.After == "",
		} {
			if _, given := values[k]; !given && !isDefault {
				t.Fatalf("accepted %q: %q is absent but the query %+v sets it", raw, k, q)
			}
		}
		for pair := range strings.SplitSeq(raw, "&") {
			if pair == "" {
				continue
			}
			rawKey, rawValue, _ := strings.Cut(pair, "=")
			k, kerr := url.QueryUnescape(rawKey)
			v, verr := url.QueryUnescape(rawValue)
			if kerr != nil || verr != nil || strings.Contains(pair, ";") || want[k] != v {
				t.Fatalf("accepted %q with the pair %q", raw, pair)
			}
		}
	})
}

// Event list limits as the contract states them.
const (
	eventPageSizeFirst = 100
	eventPageSizeMax   = 1000
)

// FuzzEventQuery feeds arbitrary query strings to the parsing of the event
// lists, the change feed's and a ticket's history's, as the handlers run
// it. What it accepts asks for 1 to 1,000 events a page (100 unless
// page_size says otherwise), of event types that exist, each once, of a
// ticket id of the right shape (on the feed only: the history's ticket is
// in its path), from the cursor after gives, and says exactly what the
// query string says: every parameter is known, given once, and carried
// with its value. Anything else is refused: a bad request only for an
// empty cursor, a validation error naming parameters of the query.
func FuzzEventQuery(f *testing.F) {
	for _, seed := range []string{
		"", "page_size=1000&type=ticket.created,ticket.deleted&ticket_id=tkt_kokoknite3yzp7htixhgxn7w&after=abc",
		"page_size=0", "page_size=1001", "page_size=0100", "page_size=%2B5", "page_size=1e3",
		"type=", "type=ticket.created,", "type=,ticket.created", "type=ticket.created,ticket.created", "type=TICKET.CREATED",
		"type=ticket.created&type=ticket.updated", "ticket_id=", "ticket_id=tkt_", "ticket_id=tkt_ABC", "ticket_id=usr_a",
		"after=", "limit=5", "status=open", "type=ticket.created;page_size=5", "after=a+b%3D&&page_size=2", "x=%zz",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		values, ok := fuzzedQuery(t, raw)
		if !ok {
			return
		}
		for _, history := range []bool{false, true} {
			known := []string{"page_size", "after", "type"}
			if !history {
				known = append(known, "ticket_id")
			}
			q, err := parseEventQuery(values, history)
			if err != nil {
				checkRefusal(t, raw, values, err)
				continue
			}
			if q.History != history || q.PageSize < 1 || q.PageSize > eventPageSizeMax ||
				history && q.TicketID != "" || q.TicketID != "" && !helpdesk.ValidTicketID(q.TicketID) {
				t.Fatalf("accepted %q (history %v) as %+v", raw, history, q)
			}
			for i, typ := range q.Types {
				if !events.Known(typ) || slices.Contains(q.Types[:i], typ) {
					t.Fatalf("accepted %q with the types %q", raw, q.Types)
				}
			}
			for k, vs := range values {
				switch {
				case !slices.Contains(known, k):
					t.Fatalf("accepted %q (history %v) with the unknown parameter %q", raw, history, k)
				case len(vs) != 1:
					t.Fatalf("accepted %q with %q given %d times", raw, k, len(vs))
				case k == "page_size" && vs[0] != strconv.Itoa(q.PageSize),
					k == "after" && (vs[0] == "" || vs[0] != q.After),
					k == "ticket_id" && vs[0] != q.TicketID:
					t.Fatalf("accepted %q: %q is %q in the query %+v", raw, k, vs[0], q)
				case k == "type":
					named := strings.Split(vs[0], ",")
					slices.Sort(named)
					if !slices.Equal(slices.Compact(named), slices.Sorted(slices.Values(q.Types))) {
						t.Fatalf("accepted %q: type %q is %q in the query", raw, vs[0], q.Types)
					}
				}
			}
			for k, isDefault := range map[string]bool{
				"page_size": q.PageSize == eventPageSizeFirst, "type": len(q.Types) == 0, "ticket_id": q.TicketID == "", "after": q.After == "",
			} {
				if _, given := values[k]; !given && !isDefault {
					t.Fatalf("accepted %q: %q is absent but the query %+v sets it", raw, k, q)
				}
			}
		}
	})
}

// FuzzTrashQuery feeds arbitrary query strings to the parsing of the
// trash's list as its handler runs it. What it accepts asks for 1 to 100
// deleted tickets a page (25 unless page_size says otherwise), from the
// cursor after gives, and says exactly what the query string says: every
// parameter is known (page_size, after), given once, with its value.
// Anything else is refused: a bad request only for an empty cursor, a
// validation error naming parameters of the query.
func FuzzTrashQuery(f *testing.F) {
	for _, seed := range []string{
		"", "page_size=100&after=abc", "page_size=0", "page_size=101", "page_size=07", "page_size=%2B5",
		"page_size=1e2", "after=", "sort_by=status", "status=open", "page_size=1&page_size=1", "after=a+b%3D&&page_size=2",
		"x=%zz", "after=a;page_size=5",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		values, ok := fuzzedQuery(t, raw)
		if !ok {
			return
		}
		q, err := parseTrashQuery(values)
		if err != nil {
			checkRefusal(t, raw, values, err)
			return
		}
		if q.PageSize < 1 || q.PageSize > commentPageSizeMax {
			t.Fatalf("accepted %q as %+v", raw, q)
		}
		want := map[string]string{"page_size": strconv.Itoa(q.PageSize), "after": q.After}
		for k, vs := range values {
			if v, known := want[k]; !known || len(vs) != 1 || vs[0] != v || v == "" {
				t.Fatalf("accepted %q: %q is %q in the query %+v", raw, k, vs, q)
			}
		}
		if _, given := values["page_size"]; !given && q.PageSize != commentPageSizeFirst {
			t.Fatalf("accepted %q: page_size is absent but the query %+v sets it", raw, q)
		}
	})
}
