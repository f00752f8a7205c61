package dynamo_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// conversation adds n comments to a new ticket through the domain's code
// path, every third an internal note, and returns the ticket's id and the
// comments in creation order.
func conversation(tb testing.TB, s *dynamo.Store, n int, bodyLen int) (string, []*helpdesk.Comment) {
	tb.Helper()
	t := mustCreate(tb, s, sampleTicket(helpdesk.NewID("tkt_"), dynamotest.Now()))
	convo := helpdesk.NewConversations(s, s)
	var out []*helpdesk.Comment
	for i := range n {
		body := fmt.Sprintf("%04d ", i) + strings.Repeat("x", max(bodyLen-5, 1))
		d := &helpdesk.CommentDraft{Body: &body, AuthorID: helpdesk.Set("usr_agent"), Public: new(i%3 != 2)}
		c, _, err := convo.AddComment(tb.Context(), t.ID, d, nil, nil)
		if err != nil {
			tb.Fatalf("comment %d: %v", i, err)
		}
		out = append(out, c)
	}
	return t.ID, out
}

func ids(cs []*helpdesk.Comment) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func TestAddCommentWritesBoth(t *testing.T) {
	s, _ := dynamotest.NewStore(t)
	id, cs := conversation(t, s, 3, 20)
	tk, err := s.Ticket(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	last := cs[len(cs)-1]
	if !tk.UpdatedAt.Equal(last.CreatedAt) || tk.Comments != 3 || tk.Version != 4 {
		t.Fatalf("ticket after 3 comments: updatedAt %v (last comment %v), comments %d, version %d", tk.UpdatedAt, last.CreatedAt, tk.Comments, tk.Version)
	}
	got, err := s.Comment(t.Context(), id, last.ID)
	if err != nil || got.Body != last.Body || !got.CreatedAt.Equal(last.CreatedAt) || got.Public != last.Public {
		t.Fatalf("Comment = %+v, %v; want %+v", got, err, last)
	}
	t.Run("StaleTicket", func(t *testing.T) {
		stale := tk.Clone()
		stale.Version = tk.Version - 1 // as read before the last comment
		c := &helpdesk.Comment{ID: helpdesk.NewCommentID(time.Now()), TicketID: id, Body: "x", Public: true, AuthorID: "usr_a", CreatedAt: dynamotest.Now()}
		if err := s.AddComment(t.Context(), c, stale, nil); !errors.Is(err, helpdesk.ErrTicketMoved) {
			t.Fatalf("AddComment on a stale ticket: %v", err)
		}
		if _, err := s.Comment(t.Context(), id, c.ID); helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
			t.Fatalf("the comment of a failed transaction exists: %v", err)
		}
	})
	t.Run("GoneTicket", func(t *testing.T) {
		gone := sampleTicket(helpdesk.NewID("tkt_"), time.Now())
		gone.Version = 1
		c := &helpdesk.Comment{ID: helpdesk.NewCommentID(time.Now()), TicketID: gone.ID, Body: "x", Public: true, AuthorID: "usr_a", CreatedAt: dynamotest.Now()}
		wantCode(t, s.AddComment(t.Context(), c, gone, nil), helpdesk.CodeNotFound)
	})
	t.Run("UnknownComment", func(t *testing.T) {
		_, err := s.Comment(t.Context(), id, helpdesk.NewCommentID(time.Now()))
		wantCode(t, err, helpdesk.CodeNotFound)
		_, err = s.Comment(t.Context(), helpdesk.NewID("tkt_"), last.ID)
		wantCode(t, err, helpdesk.CodeNotFound)
	})
}

func TestListComments(t *testing.T) {
	s, _ := dynamotest.NewStore(t)
	id, cs := conversation(t, s, 23, 40)
	walk := func(q helpdesk.CommentQuery) []*helpdesk.Comment {
		t.Helper()
		var all []*helpdesk.Comment
		for range 100 {
			page, err := s.ListComments(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Comments) == 0 && page.Next != "" {
				t.Fatal("an empty page with a next cursor")
			}
			all = append(all, page.Comments...)
			if q.After = page.Next; q.After == "" {
				return all
			}
		}
		t.Fatal("the walk does not end")
		return nil
	}
	for _, size := range []int{1, 5, 23, 100} {
		asc := walk(helpdesk.CommentQuery{TicketID: id, Order: helpdesk.Asc, PageSize: size})
		if !slices.Equal(ids(asc), ids(cs)) {
			t.Fatalf("page size %d, asc: %v, want %v", size, ids(asc), ids(cs))
		}
		desc := walk(helpdesk.CommentQuery{TicketID: id, Order: helpdesk.Desc, PageSize: size})
		want := slices.Clone(ids(cs))
		slices.Reverse(want)
		if !slices.Equal(ids(desc), want) {
			t.Fatalf("page size %d, desc out of order", size)
		}
		for _, public := range []bool{true, false} {
			got := walk(helpdesk.CommentQuery{TicketID: id, Order: helpdesk.Asc, PageSize: size, Public: &public})
			var want []string
			for _, c := range cs {
				if c.Public == public {
					want = append(want, c.ID)
				}
			}
			if !slices.Equal(ids(got), want) {
				t.Fatalf("page size %d, public=%v: %v, want %v", size, public, ids(got), want)
			}
		}
	}
	t.Run("CursorBound", func(t *testing.T) {
		page, err := s.ListComments(t.Context(), helpdesk.CommentQuery{TicketID: id, Order: helpdesk.Asc, PageSize: 2})
		if err != nil || page.Next == "" {
			t.Fatal(page, err)
		}
		other, _ := conversation(t, s, 1, 10)
		for name, q := range map[string]helpdesk.CommentQuery{
			"OtherTicket":   {TicketID: other, Order: helpdesk.Asc, PageSize: 2, After: page.Next},
			"OtherOrder":    {TicketID: id, Order: helpdesk.Desc, PageSize: 2, After: page.Next},
			"OtherFilter":   {TicketID: id, Order: helpdesk.Asc, PageSize: 2, After: page.Next, Public: new(true)},
			"Tampered":      {TicketID: id, Order: helpdesk.Asc, PageSize: 2, After: page.Next[:len(page.Next)-2] + "AA"},
			"NotACursor":    {TicketID: id, Order: helpdesk.Asc, PageSize: 2, After: "tkt_x"},
			"OtherPageSize": {TicketID: id, Order: helpdesk.Asc, PageSize: 3, After: page.Next},
		} {
			_, err := s.ListComments(t.Context(), q)
			if name == "OtherPageSize" {
				if err != nil {
					t.Errorf("%s: %v (a cursor may be followed with another page size)", name, err)
				}
				continue
			}
			if helpdesk.ErrorCode(err) != helpdesk.CodeBadRequest {
				t.Errorf("%s: %v, want BAD_REQUEST", name, err)
			}
		}
	})
	t.Run("UnknownTicket", func(t *testing.T) {
		_, err := s.ListComments(t.Context(), helpdesk.CommentQuery{TicketID: helpdesk.NewID("tkt_"), Order: helpdesk.Asc, PageSize: 5})
		wantCode(t, err, helpdesk.CodeNotFound)
	})
	t.Run("NoComments", func(t *testing.T) {
		empty := mustCreate(t, s, sampleTicket(helpdesk.NewID("tkt_"), time.Now()))
		page, err := s.ListComments(t.Context(), helpdesk.CommentQuery{TicketID: empty.ID, Order: helpdesk.Asc, PageSize: 5})
		if err != nil || len(page.Comments) != 0 || page.Next != "" {
			t.Fatalf("a ticket without comments: %+v, %v", page, err)
		}
	})
}

func TestRedactComment(t *testing.T) {
	s, _ := dynamotest.NewStore(t)
	id, cs := conversation(t, s, 2, 30)
	at := dynamotest.Now()
	got, err := s.RedactComment(t.Context(), id, cs[0].ID, helpdesk.Stamp{At: at})
	if err != nil || got.Body != "" || !got.RedactedAt.Equal(at) || got.ID != cs[0].ID || !got.CreatedAt.Equal(cs[0].CreatedAt) {
		t.Fatalf("RedactComment = %+v, %v", got, err)
	}
	again, err := s.RedactComment(t.Context(), id, cs[0].ID, helpdesk.Stamp{At: at.Add(time.Hour)})
	if err != nil || !again.RedactedAt.Equal(at) {
		t.Fatalf("redacting again changed the comment: %+v, %v", again, err)
	}
	if other, err := s.Comment(t.Context(), id, cs[1].ID); err != nil || other.Redacted() || other.Body != cs[1].Body {
		t.Fatalf("the other comment: %+v, %v", other, err)
	}
	_, err = s.RedactComment(t.Context(), id, helpdesk.NewCommentID(time.Now()), helpdesk.Stamp{At: at})
	wantCode(t, err, helpdesk.CodeNotFound)
	_, err = s.RedactComment(t.Context(), helpdesk.NewID("tkt_"), cs[1].ID, helpdesk.Stamp{At: at})
	wantCode(t, err, helpdesk.CodeNotFound)
}

// TestDeletedTicketsCommentsAreNotFoundThenPurged: between the ticket's
// deletion and the purge of its comments, no read shows them; the purge
// leaves nothing of the ticket in the table but its tombstone.
func TestDeletedTicketsCommentsAreNotFoundThenPurged(t *testing.T) {
	s, table := dynamotest.NewStore(t)
	id, cs := conversation(t, s, 30, 10)
	if err := s.DeleteTicket(t.Context(), id, helpdesk.Precondition{}, dynamotest.Deletion()); err != nil {
		t.Fatal(err)
	}
	_, err := s.Comment(t.Context(), id, cs[0].ID)
	wantCode(t, err, helpdesk.CodeNotFound)
	_, err = s.ListComments(t.Context(), helpdesk.CommentQuery{TicketID: id, Order: helpdesk.Desc, PageSize: 5})
	wantCode(t, err, helpdesk.CodeNotFound)
	_, err = s.RedactComment(t.Context(), id, cs[0].ID, helpdesk.Stamp{At: time.Now()})
	wantCode(t, err, helpdesk.CodeNotFound)
	left := func() int { return len(dynamotest.TicketPartition(t, dynamotest.Client(t), table, id)) }
	if n := left(); n != 31 {
		t.Fatalf("before the purge the partition holds %d items, want the 30 comments and the tombstone", n)
	}
	for range 2 { // idempotent: a redelivered record purges nothing twice
		if _, err := s.PurgeComments(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	if n := left(); n != 1 {
		t.Fatalf("after the purge the ticket's partition holds %d items, want only the tombstone", n)
	}
	if del, err := s.Tombstone(t.Context(), id); err != nil || del.By != helpdesk.System {
		t.Fatalf("Tombstone = %+v, %v; want the system's deletion", del, err)
	}
}

// commentCost is what one comment costs through the store's own code
// paths, as DynamoDB Local accounts it.
type commentCost struct {
	createWCU, createRCU float64 // a comment: the ticket's read and the transaction
	createCalls          int
	plainWCU             float64 // the same two items as two plain puts, for comparison
	pageRCU, publicRCU   float64 // a 25-comment page, and a page of public replies only
	pageRead, publicRead float64 // items read ÷ returned
	pageCalls, getCalls  int     // round trips of a page and of a get
	getRCU               float64
	commentBytes         int
}

// measureCommentCost adds comments of typical size (a 400-byte body) to an
// assigned ticket with the table's indexes, through Conversations and the
// store, and reads them back the way the API does.
func measureCommentCost(tb testing.TB) commentCost {
	tb.Helper()
	_, table := dynamotest.NewStore(tb)
	m := dynamotest.NewMetered(dynamotest.Client(tb))
	s := dynamotest.StoreOn(tb, m, table)
	var cc commentCost
	id, cs := conversation(tb, s, 60, 400)
	m.Take()
	body := strings.Repeat("y", 400)
	if _, _, err := helpdesk.NewConversations(s, s).AddComment(tb.Context(), id, &helpdesk.CommentDraft{Body: &body, AuthorID: helpdesk.Set("usr_agent")}, nil, nil); err != nil {
		tb.Fatal(err)
	}
	u := m.Take()
	cc.createWCU, cc.createRCU, cc.createCalls = u.WCU, u.RCU, u.RoundTrips()

	// The same two items written apart, as a design without a transaction
	// (the comment first, the ticket's bump after, a stream repair for a
	// crash between) would write them: the newest comment's item again
	// under a new key, and the ticket's item with its updated_at index key
	// moved, as a bump moves it.
	raw := func(sk string) map[string]types.AttributeValue {
		out, err := dynamotest.Client(tb).GetItem(tb.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: dynamo.TicketKeyPrefix + id}, "sk": &types.AttributeValueMemberS{Value: sk}}})
		if err != nil || out.Item == nil {
			tb.Fatalf("read %s: %v", sk, err)
		}
		return out.Item
	}
	comment, ticket := raw("COMMENT#"+cs[len(cs)-1].ID), raw("TICKET")
	comment["sk"] = &types.AttributeValueMemberS{Value: "COMMENT#" + helpdesk.NewCommentID(time.Now())}
	ticket["ix_u"] = &types.AttributeValueMemberS{Value: "2099-01-01T00:00:00.000Z#x"}
	m.Take()
	for _, item := range []map[string]types.AttributeValue{comment, ticket} {
		if _, err := m.PutItem(tb.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			tb.Fatal(err)
		}
	}
	cc.plainWCU = m.Take().WCU
	cc.commentBytes = len(body)

	page := func(q helpdesk.CommentQuery) (float64, float64, int) {
		var stats dynamo.CommentPageStats
		s.ObserveComments = func(ps dynamo.CommentPageStats) { stats = ps }
		m.Take()
		if _, err := s.ListComments(tb.Context(), q); err != nil {
			tb.Fatal(err)
		}
		u := m.Take()
		return u.RCU, float64(stats.Scanned) / float64(stats.Returned), u.RoundTrips()
	}
	cc.pageRCU, cc.pageRead, cc.pageCalls = page(helpdesk.CommentQuery{TicketID: id, Order: helpdesk.Asc, PageSize: 25})
	cc.publicRCU, cc.publicRead, _ = page(helpdesk.CommentQuery{TicketID: id, Order: helpdesk.Desc, PageSize: 25, Public: new(true)})
	m.Take()
	if _, err := s.Comment(tb.Context(), id, cs[0].ID); err != nil {
		tb.Fatal(err)
	}
	u = m.Take()
	cc.getRCU, cc.getCalls = u.RCU, u.RoundTrips()
	return cc
}

// TestCommentCost reports what a comment costs, and holds the round trips
// to the bounds: create 2, a page 1 Query (beside the ticket's
// existence read), get 1.
func TestCommentCost(t *testing.T) {
	c := measureCommentCost(t)
	if c.createCalls != 2 || c.getCalls != 1 || c.pageCalls != 2 {
		t.Fatalf("round trips: create %d (want 2), page %d (want 2: the Query and the ticket's read, in parallel), get %d (want 1)", c.createCalls, c.pageCalls, c.getCalls)
	}
	if c.pageRead != 26.0/25 {
		t.Fatalf("a 25-comment page read %.3f items per comment returned, want 26/25 (the page and the look-ahead item)", c.pageRead)
	}
	if c.createWCU <= c.plainWCU {
		t.Fatalf("the transaction cost %.1f WCU, two plain writes %.1f: a transaction bills each write twice", c.createWCU, c.plainWCU)
	}
	if testing.Verbose() {
		fmt.Printf("\ncomment cost (400-byte body, an assigned ticket in its indexes): create %.0f WCU + %.1f RCU in %d round trips (the same writes without a transaction: %.0f WCU); page of 25: %.1f RCU, read/returned %.3f; page of public replies (a third are notes): %.1f RCU, read/returned %.3f; get %.1f RCU in %d round trip\n",
			c.createWCU, c.createRCU, c.createCalls, c.plainWCU, c.pageRCU, c.pageRead, c.publicRCU, c.publicRead, c.getRCU, c.getCalls)
	}
}
