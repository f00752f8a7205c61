package dynamo_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// TestReadAmplification walks every filter combination x sort x order in
// default-size pages and checks what DynamoDB reports reading: a page of a
// list whose filters pin one index partition reads nothing it does not
// return but the look-ahead item that makes hasMore exact; a list that
// merges partitions with no filter expression reads, over its walk, at
// most twice what it returns. Run with -v (make amplification) to print
// the table.
func TestReadAmplification(t *testing.T) {
	s := costStore(t)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	if testing.Verbose() {
		fmt.Fprintln(tw, "filters\tsort_by\torder\tpages\tcalls\trounds\treturned\tread\tread/returned\tread/matched\tRCU/page\tindex\t")
	}
	for _, q := range costQueries() {
		c := measureWalk(t, s, q)
		merged, filtered := false, false
		for _, p := range c.pages {
			merged, filtered = merged || p.Partitions > 1, filtered || p.Filtered
			if p.Partitions == 1 && !p.Filtered && (p.Scanned != p.Matched || p.Scanned > p.Returned+1) {
				t.Errorf("%s/%s/%s: a page read %d items, matched %d, returned %d", describe(q), q.SortBy, q.Order, p.Scanned, p.Matched, p.Returned)
			}
		}
		if merged && !filtered && c.readPerReturned() > 2 {
			t.Errorf("%s/%s/%s: a merged walk read %.3f items per item returned, over 2", describe(q), q.SortBy, q.Order, c.readPerReturned())
		}
		if testing.Verbose() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%.2f\t%s\t\n", describe(q), q.SortBy, q.Order, len(c.pages), c.calls, c.rounds,
				c.returned, c.scanned, c.readPerReturned(), c.readPerMatched(), c.rcuPerPage(), c.pages[0].Index)
		}
	}
	if testing.Verbose() {
		_ = tw.Flush()
	}
}

// costStore returns a store holding the 160 seeded tickets the cost
// measurements walk.
func costStore(tb testing.TB) *dynamo.Store {
	tb.Helper()
	s, _ := dynamotest.NewStore(tb)
	seedTickets(tb, s, 160, rand.New(rand.NewPCG(11, 12)))
	return s
}

// costQueries are the lists measured: every filter combination x sort x
// order in default-size pages.
func costQueries() []helpdesk.ListQuery {
	return queries(
		[]helpdesk.Status{"", helpdesk.StatusOpen},
		[]helpdesk.Priority{"", helpdesk.PriorityHigh},
		[]string{"", "usr_a"}, helpdesk.DefaultPageSize)
}

// walkCost is what walking every page of one query cost, as DynamoDB
// reported it.
type walkCost struct {
	pages                                     []dynamo.PageStats
	calls, rounds, returned, scanned, matched int
	rcu                                       float64
}

func (c walkCost) readPerReturned() float64 { return float64(c.scanned) / float64(max(c.returned, 1)) }
func (c walkCost) readPerMatched() float64  { return float64(c.scanned) / float64(max(c.matched, 1)) }
func (c walkCost) rcuPerPage() float64      { return c.rcu / float64(len(c.pages)) }

// measureWalk walks every page of q and sums what its pages cost.
func measureWalk(tb testing.TB, s *dynamo.Store, q helpdesk.ListQuery) walkCost {
	tb.Helper()
	var c walkCost
	s.Observe = func(ps dynamo.PageStats) { c.pages = append(c.pages, ps) }
	defer func() { s.Observe = nil }()
	walk(tb, s, q)
	for _, p := range c.pages {
		c.calls, c.rounds, c.returned, c.scanned, c.matched, c.rcu = c.calls+p.Calls, c.rounds+p.Rounds, c.returned+p.Returned, c.scanned+p.Scanned, c.matched+p.Matched, c.rcu+p.Capacity
	}
	return c
}

// TestWriteCost reports the write capacity of creating, updating and
// deleting a typical ticket, indexes included, as DynamoDB Local counts it.
func TestWriteCost(t *testing.T) {
	c := measureItemCost(t)
	if c.indexes == 0 || c.createWCU <= 1 {
		t.Fatalf("create reported %.1f WCU over %d indexes; the indexes' writes are missing", c.createWCU, c.indexes)
	}
	if testing.Verbose() {
		fmt.Printf("\nwrite cost of an assigned ticket (%d indexes): create %.0f WCU, update %.0f WCU, delete %.0f WCU\n", c.indexes, c.createWCU, c.updateWCU, c.deleteWCU)
	}
}

// itemCost is the capacity of a typical (assigned) ticket's item calls.
type itemCost struct {
	getRCU, createWCU, updateWCU, deleteWCU float64
	indexes                                 int // indexes the create wrote
}

// measureItemCost makes the calls the store makes for one ticket — a
// strongly consistent GetItem, and a PutItem, an update's PutItem (which
// moves the updated_at index entries) and a DeleteItem of the whole item —
// asking DynamoDB for their consumed capacity, indexes included.
func measureItemCost(tb testing.TB) itemCost {
	tb.Helper()
	s, table := dynamotest.NewStore(tb)
	ctx := context.Background()
	db := dynamotest.Client(tb)
	tk := sampleTicket(helpdesk.NewID("tkt_"), time.Now())
	mustCreate(tb, s, tk)
	key := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "TICKET#" + tk.ID},
		"sk": &types.AttributeValueMemberS{Value: "TICKET"},
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil {
		tb.Fatal(err)
	}
	item := out.Item
	capacity := func(c *types.ConsumedCapacity) (float64, int) {
		if c == nil {
			tb.Fatal("no consumed capacity reported")
		}
		return aws.ToFloat64(c.CapacityUnits), len(c.GlobalSecondaryIndexes)
	}
	var ic itemCost
	ic.getRCU, _ = capacity(out.ConsumedCapacity)
	del, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		tb.Fatal(err)
	}
	put, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		tb.Fatal(err)
	}
	item["ix_u"] = &types.AttributeValueMemberS{Value: "2099-01-01T00:00:00.000Z#x"}
	item["status"] = &types.AttributeValueMemberS{Value: "open"}
	upd, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		tb.Fatal(err)
	}
	ic.createWCU, ic.indexes = capacity(put.ConsumedCapacity)
	ic.updateWCU, _ = capacity(upd.ConsumedCapacity)
	ic.deleteWCU, _ = capacity(del.ConsumedCapacity)
	return ic
}
