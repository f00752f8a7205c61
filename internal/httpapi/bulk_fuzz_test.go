package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
)

// FuzzDecodeBulk feeds arbitrary bodies to the bulk update's decoding
// and checks (parseMembers, decodeIDs, decodeTicketPatch, CheckBulkIDs,
// Validate): every problem names a field of the body, and an accepted
// body names 1 to 100 distinct ticket ids and a patch whose tag edits keep
// a ticket within its limits or are refused by them.
func FuzzDecodeBulk(f *testing.F) {
	for _, seed := range []string{
		`{"ids": ["tkt_a", "tkt_b"], "ticket": {"status": "open", "addTags": ["x"], "removeTags": ["y"]}}`,
		`{"ids": ["tkt_a", "tkt_a", "TKT_B", 7, null], "ticket": {"tags": ["a"], "addTags": ["a"]}}`,
		`{"ids": "tkt_a", "ticket": {}}`,
		`{"ticket": {"addTags": [" ", "a", "a"], "removeTags": ["a "]}}`,
		`{"ids": [], "ticket": {"addTags": null}, "extra": 1}`,
		`{"ids": ["tkt_a"]}`, `{"ids": ["tkt_a"], "ticket": []}`, ``, `[`,
		`{"ids": ["tkt_a"], "ids": ["tkt_b"], "ticket": {}}`,
	} {
		f.Add([]byte(seed))
	}
	existing := fullTicket()
	f.Fuzz(func(t *testing.T, body []byte) {
		var problems helpdesk.Problems
		top, fields, err := parseMembers(body, "ticket", []string{"ids"}, &problems)
		if err != nil {
			checkParseError(t, err, "ticket")
			return
		}
		checkNoRepeatedKeys(t, bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
		ids := decodeIDs(top, &problems)
		p := decodeTicketPatch(fields, &problems)
		helpdesk.CheckBulkIDs("ids", ids, &problems)
		p.Validate("ticket.", definitionsFor(p.CustomFields), &problems)
		for _, pr := range problems {
			_, member := top[pr.Field]
			if pr.Message == "" || !strings.HasPrefix(pr.Field, "ticket.") && !strings.HasPrefix(pr.Field, "ids[") && !member && pr.Field != "ids" {
				t.Fatalf("problem %+v names no field of the body", pr)
			}
		}
		if problems.Err() != nil {
			return
		}
		var raw []json.RawMessage
		if json.Unmarshal(top["ids"], &raw) != nil || len(raw) != len(ids) {
			t.Fatalf("accepted ids %s as %q", top["ids"], ids)
		}
		if len(ids) == 0 || len(ids) > 100 {
			t.Fatalf("accepted %d ids", len(ids))
		}
		for i, id := range ids {
			if !helpdesk.ValidTicketID(id) || slices.Contains(ids[:i], id) {
				t.Fatalf("accepted ids %q", ids)
			}
		}
		if p.Tags != nil && (p.AddTags != nil || p.RemoveTags != nil) {
			t.Fatal("accepted tags with addTags or removeTags")
		}
		tk := existing.Clone()
		p.Apply(tk)
		var over helpdesk.Problems
		tk.CheckLimits("ticket.", &over)
		if over.Err() == nil {
			checkTicket(t, tk)
		}
		if p.AddTags != nil {
			for _, tag := range *p.AddTags {
				if over.Err() == nil && !slices.Contains(tk.Tags, strings.TrimSpace(tag)) {
					t.Fatalf("added tag %q missing from %q", tag, tk.Tags)
				}
			}
		}
		if p.RemoveTags != nil {
			for _, tag := range *p.RemoveTags {
				if slices.Contains(tk.Tags, strings.TrimSpace(tag)) {
					t.Fatalf("removed tag %q still in %q", tag, tk.Tags)
				}
			}
		}
	})
}

func TestEscapedLen(t *testing.T) {
	for _, s := range []string{"", "plain", `"quoted" \ back`, "<a href=x>&</a>", "tab\tnew\nline\x00", "é😀", "line\u2028para\u2029", "bad\xff\xfe", "\xed\xa0\x80"} {
		want, err := json.Marshal(s) // escapes HTML, as the Lambda runtime does
		if err != nil {
			t.Fatal(err)
		}
		if got := escapedLen([]byte(s)) + 2; got < len(want) {
			t.Errorf("escapedLen(%q) = %d, below the %d bytes of %s", s, got-2, len(want)-2, want)
		}
	}
}

// TestBulkAnswerWorstCase measures a bulk answer's tickets at their
// limits against the bound on the answer (docs/api.md#bulk-update gives
// the numbers): a ticket of typical size, and one at every limit with
// characters that escape the most, once in the body (controls as \uXXXX)
// and again in Lambda's envelope.
func TestBulkAnswerWorstCase(t *testing.T) {
	typical := helpdesk.NewTicket("tkt_"+strings.Repeat("a", 24), time.Now())
	typical.Subject, typical.AssigneeID, typical.RequesterEmail, typical.RequesterName = "Printer on fire in room 4.12", "usr_jane", "joe@example.com", "Joe Bloggs"
	typical.Tags = []string{"printer", "fire", "vip"}
	typical.CustomFields = []helpdesk.CustomFieldValue{{ID: "cf_" + strings.Repeat("b", 24), Value: "third floor"}, {ID: "cf_" + strings.Repeat("c", 24), Value: helpdesk.Number("3")}}

	worst := typical.Clone()
	esc := "\x01"
	worst.Subject = "s" + strings.Repeat(esc, helpdesk.MaxSubjectLen-2) + "s"
	worst.RequesterName = strings.Repeat(esc, helpdesk.MaxRequesterNameLen)
	worst.Tags = nil
	for i := range helpdesk.MaxTags {
		worst.Tags = append(worst.Tags, fmt.Sprintf("%02d", i)+strings.Repeat(esc, helpdesk.MaxTagLen-3)+"t")
	}
	worst.CustomFields = nil
	for i := range helpdesk.MaxCustomFieldValues {
		worst.CustomFields = append(worst.CustomFields, helpdesk.CustomFieldValue{ID: fmt.Sprintf("cf_%024d", i), Value: strings.Repeat(esc, helpdesk.MaxTextValueLen)})
	}
	size := func(tk *helpdesk.Ticket) (stored, body, envelope int) {
		b := encodeJSON(view.Ticket(tk))
		for _, s := range append([]string{tk.Subject, tk.RequesterName}, tk.Tags...) {
			stored += len(s)
		}
		for _, c := range tk.CustomFields {
			if v, ok := c.Value.(string); ok {
				stored += len(v)
			}
		}
		return stored, len(b), escapedLen(b)
	}
	_, tb, te := size(typical)
	ws, wb, we := size(worst)
	t.Logf("typical ticket: %d bytes of JSON, %d escaped; 100 of them %d escaped", tb, te, 100*te)
	t.Logf("ticket at every limit: %d bytes of text stored, %d bytes of JSON, %d escaped; 100 of them %d escaped; %d fit under the bound of %d",
		ws, wb, we, 100*we, maxBulkTickets/int64(we), maxBulkTickets)
	if 100*int64(te) > maxBulkTickets/10 {
		t.Errorf("a hundred typical tickets take %d bytes, a tenth of the bound is %d", 100*te, maxBulkTickets/10)
	}
	if 100*int64(we) <= maxBulkTickets {
		t.Errorf("a hundred tickets at their limits take %d bytes, within the bound %d: the bound or the measure is wrong", 100*we, maxBulkTickets)
	}
}
