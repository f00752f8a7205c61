package helpdesk_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
)

func TestTicketPatchApplyTagEdits(t *testing.T) {
	cases := []struct {
		name        string
		patch       *helpdesk.TicketPatch
		want        []string
		wantChanged bool
	}{
		{"AddAppends", &helpdesk.TicketPatch{AddTags: new([]string{"paper", " jam "})}, []string{"printer", "fire", "paper", "jam"}, true},
		{"AddHeldIsNoChange", &helpdesk.TicketPatch{AddTags: new([]string{"fire", " printer"})}, []string{"printer", "fire"}, false},
		{"AddDeduplicates", &helpdesk.TicketPatch{AddTags: new([]string{"jam", "jam", "fire", " jam"})}, []string{"printer", "fire", "jam"}, true},
		{"RemoveKeepsOrder", &helpdesk.TicketPatch{RemoveTags: new([]string{"printer"})}, []string{"fire"}, true},
		{"RemoveMissingIsNoChange", &helpdesk.TicketPatch{RemoveTags: new([]string{"paper"})}, []string{"printer", "fire"}, false},
		{"RemoveTrimmed", &helpdesk.TicketPatch{RemoveTags: new([]string{" fire\t"})}, []string{"printer"}, true},
		{"RemoveAll", &helpdesk.TicketPatch{RemoveTags: new([]string{"fire", "printer"})}, []string{}, true},
		{"RemoveThenAdd", &helpdesk.TicketPatch{RemoveTags: new([]string{"printer"}), AddTags: new([]string{"paper"})}, []string{"fire", "paper"}, true},
		{"EmptyLists", &helpdesk.TicketPatch{RemoveTags: new([]string{}), AddTags: new([]string{})}, []string{"printer", "fire"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := baseTicket()
			if changed := tc.patch.Apply(got); changed != tc.wantChanged {
				t.Errorf("Apply changed = %v, want %v", changed, tc.wantChanged)
			}
			if !slices.Equal(got.Tags, tc.want) {
				t.Errorf("tags = %q, want %q", got.Tags, tc.want)
			}
		})
	}
}

func TestTicketPatchValidateTagEdits(t *testing.T) {
	cases := []struct {
		name  string
		patch *helpdesk.TicketPatch
		want  []string
	}{
		{"Add50", &helpdesk.TicketPatch{AddTags: new(tagList(50))}, nil},
		{"Add51", &helpdesk.TicketPatch{AddTags: new(tagList(51))}, []string{"ticket.addTags"}},
		{"Remove51", &helpdesk.TicketPatch{RemoveTags: new(tagList(51))}, []string{"ticket.removeTags"}},
		{"AddBlankAndLong", &helpdesk.TicketPatch{AddTags: new([]string{"ok", " ", repeat("t", 101), repeat("é", 100)})},
			[]string{"ticket.addTags[1]", "ticket.addTags[2]"}},
		{"RemoveEmpty", &helpdesk.TicketPatch{RemoveTags: new([]string{""})}, []string{"ticket.removeTags[0]"}},
		{"WithTags", &helpdesk.TicketPatch{Tags: new([]string{"a"}), AddTags: new([]string{"b"}), RemoveTags: new([]string{"c"})},
			[]string{"ticket.addTags", "ticket.removeTags"}},
		{"AddedAndRemoved", &helpdesk.TicketPatch{AddTags: new([]string{"a", "b "}), RemoveTags: new([]string{"c", " b"})},
			[]string{"ticket.removeTags[1]"}},
		{"BlankInBothOnceReported", &helpdesk.TicketPatch{AddTags: new([]string{" "}), RemoveTags: new([]string{" "})},
			[]string{"ticket.addTags[0]", "ticket.removeTags[0]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertFields(t, validate(t, tc.patch), tc.want...)
		})
	}
}

func TestTicketCheckLimitsTags(t *testing.T) {
	tk := baseTicket()
	tk.Tags = tagList(helpdesk.MaxTags)
	var problems helpdesk.Problems
	tk.CheckLimits("ticket.", &problems)
	assertFields(t, problems)
	(&helpdesk.TicketPatch{AddTags: new([]string{"one more"})}).Apply(tk)
	tk.CheckLimits("ticket.", &problems)
	assertFields(t, problems, "ticket.addTags")
}

func TestCheckBulkIDs(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("tkt_%s%s", repeat("a", i/10+1), repeat("b", i%10+1))
		}
		return out
	}
	cases := []struct {
		name string
		ids  []string
		want []string
	}{
		{"None", nil, []string{"ids"}},
		{"One", ids(1), nil},
		{"Hundred", ids(100), nil},
		{"HundredAndOne", ids(101), []string{"ids"}},
		{"Duplicate", []string{"tkt_a", "tkt_b", "tkt_a", "tkt_a"}, []string{"ids[2]", "ids[3]"}},
		{"Malformed", []string{"tkt_a", "TKT_A", "", "cf_a", "tkt_" + repeat("a", 65)}, []string{"ids[1]", "ids[2]", "ids[3]", "ids[4]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var problems helpdesk.Problems
			helpdesk.CheckBulkIDs("ids", tc.ids, &problems)
			assertFields(t, problems, tc.want...)
		})
	}
}
