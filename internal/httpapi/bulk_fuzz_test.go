package httpapi

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
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
