package helpdesk_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/helpdesk"
)

func TestCommentIDsSortByCreation(t *testing.T) {
	base := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 200 {
		// Several per millisecond: ties keep one order, by the random part.
		ids = append(ids, helpdesk.NewCommentID(base.Add(time.Duration(i/4)*time.Millisecond)))
	}
	for i, id := range ids {
		if !helpdesk.ValidCommentID(id) {
			t.Fatalf("id %q has not the shape ValidCommentID accepts", id)
		}
		if i >= 4 && i%4 == 0 && !(ids[i-1] < id) {
			t.Fatalf("%q (ms %d) does not sort after %q (ms %d)", id, i/4, ids[i-1], (i-1)/4)
		}
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	for i := range ids {
		if ms := func(id string) int { return slices.Index(ids, id) / 4 }; ms(sorted[i]) != i/4 {
			t.Fatalf("sorted ids are out of creation order at %d", i)
		}
	}
	if a, b := helpdesk.NewCommentID(base), helpdesk.NewCommentID(base); a == b {
		t.Fatal("two ids of the same millisecond are equal")
	}
	for _, bad := range []string{"", "cmt_", "tkt_" + ids[0][4:], ids[0] + "0", ids[0][:29], "cmt_" + strings.Repeat("w", 26), "CMT_" + ids[0][4:]} {
		if helpdesk.ValidCommentID(bad) {
			t.Errorf("ValidCommentID(%q) = true", bad)
		}
	}
}

func TestCommentDraftValidate(t *testing.T) {
	body := new("Thanks, we are looking into it.")
	cases := []struct {
		name  string
		draft helpdesk.CommentDraft
		want  []string // fields with problems
	}{
		{"AgentReply", helpdesk.CommentDraft{Body: body, AuthorID: helpdesk.Set("usr_abc")}, nil},
		{"AgentNote", helpdesk.CommentDraft{Body: body, AuthorID: helpdesk.Set("usr_abc"), Public: new(false)}, nil},
		{"CustomerReply", helpdesk.CommentDraft{Body: body, AuthorEmail: helpdesk.Set("jane@example.com"), AuthorName: helpdesk.Set("Jane")}, nil},
		{"CustomerNote", helpdesk.CommentDraft{Body: body, AuthorEmail: helpdesk.Set("jane@example.com"), Public: new(false)}, []string{"comment.public"}},
		{"NoAuthor", helpdesk.CommentDraft{Body: body}, []string{"comment.authorId"}},
		{"TwoAuthors", helpdesk.CommentDraft{Body: body, AuthorID: helpdesk.Set("usr_abc"), AuthorEmail: helpdesk.Set("jane@example.com")}, []string{"comment.authorId"}},
		{"AgentWithName", helpdesk.CommentDraft{Body: body, AuthorID: helpdesk.Set("usr_abc"), AuthorName: helpdesk.Set("Bob")}, []string{"comment.authorName"}},
		{"BadAgent", helpdesk.CommentDraft{Body: body, AuthorID: helpdesk.Set("bob")}, []string{"comment.authorId"}},
		{"BadEmail", helpdesk.CommentDraft{Body: body, AuthorEmail: helpdesk.Set("jane")}, []string{"comment.authorEmail"}},
		{"LongName", helpdesk.CommentDraft{Body: body, AuthorEmail: helpdesk.Set("jane@example.com"), AuthorName: helpdesk.Set(strings.Repeat("é", helpdesk.MaxRequesterNameLen+1))}, []string{"comment.authorName"}},
		{"EmptyAgent", helpdesk.CommentDraft{Body: body, AuthorID: helpdesk.Set(""), AuthorEmail: helpdesk.Set("jane@example.com")}, []string{"comment.authorId"}},
		{"EmptyEmail", helpdesk.CommentDraft{Body: body, AuthorID: helpdesk.Set("usr_a"), AuthorEmail: helpdesk.Set("")}, []string{"comment.authorId"}},
		{"OnlyEmptyEmail", helpdesk.CommentDraft{Body: body, AuthorEmail: helpdesk.Set("")}, []string{"comment.authorEmail"}},
		{"NullAgentWithCustomer", helpdesk.CommentDraft{Body: body, AuthorID: helpdesk.Nullable[string]{Set: true, Null: true}, AuthorEmail: helpdesk.Set("jane@example.com")}, nil},
		{"NoBody", helpdesk.CommentDraft{AuthorID: helpdesk.Set("usr_abc")}, []string{"comment.body"}},
		{"BlankBody", helpdesk.CommentDraft{Body: new(" \n\t "), AuthorID: helpdesk.Set("usr_abc")}, []string{"comment.body"}},
		{"LongestBody", helpdesk.CommentDraft{Body: new(strings.Repeat("a", helpdesk.MaxCommentBytes)), AuthorID: helpdesk.Set("usr_abc")}, nil},
		{"BodyOneByteOver", helpdesk.CommentDraft{Body: new(strings.Repeat("a", helpdesk.MaxCommentBytes+1)), AuthorID: helpdesk.Set("usr_abc")}, []string{"comment.body"}},
		{"BodyNotUTF8", helpdesk.CommentDraft{Body: new("a\xffb"), AuthorID: helpdesk.Set("usr_abc")}, []string{"comment.body"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var problems helpdesk.Problems
			tc.draft.Validate("comment.", &problems)
			var got []string
			for _, p := range problems {
				got = append(got, p.Field)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("problems %v, want fields %v", problems, tc.want)
			}
		})
	}
}
