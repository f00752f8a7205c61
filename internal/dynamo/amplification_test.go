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
// default-size pages and checks what DynamoDB reports reading: with no
// filter or one filter, no item is read that the page does not return,
// except the one look-ahead item that makes hasMore exact. Run with -v
// (make amplification) to print the table.
func TestReadAmplification(t *testing.T) {
	s, _ := newStore(t)
	seedTickets(t, s, 160, rand.New(rand.NewPCG(11, 12)))
	var pages []dynamo.PageStats
	s.Observe = func(ps dynamo.PageStats) { pages = append(pages, ps) }

	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	if testing.Verbose() {
		fmt.Fprintln(tw, "filters\tsort_by\torder\tpages\tcalls\treturned\tread\tread/returned\tread/matched\tRCU/page\tindex\t")
	}
	for _, q := range queries(
		[]helpdesk.Status{"", helpdesk.StatusOpen},
		[]helpdesk.Priority{"", helpdesk.PriorityHigh},
		[]string{"", "usr_a"}, helpdesk.DefaultPageSize) {
		pages = pages[:0]
		walk(t, s, q)
		var calls, returned, scanned, matched int
		var rcu float64
		for _, p := range pages {
			calls, returned, scanned, matched, rcu = calls+p.Calls, returned+p.Returned, scanned+p.Scanned, matched+p.Matched, rcu+p.Capacity
			single := describe(q) == "none" || describe(q) == "status" || describe(q) == "priority" || describe(q) == "assignee"
			if single && (p.Scanned != p.Matched || p.Scanned > p.Returned+1) {
				t.Errorf("%s/%s/%s: a page read %d items, matched %d, returned %d", describe(q), q.SortBy, q.Order, p.Scanned, p.Matched, p.Returned)
			}
		}
		if testing.Verbose() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%.2f\t%s\t\n", describe(q), q.SortBy, q.Order, len(pages), calls,
				returned, scanned, float64(scanned)/float64(max(returned, 1)), float64(scanned)/float64(max(matched, 1)), rcu/float64(len(pages)), pages[0].Index)
		}
	}
	if testing.Verbose() {
		_ = tw.Flush()
	}
}

// TestWriteCost reports the write capacity of creating, updating and
// deleting a typical ticket, indexes included, as DynamoDB Local counts it.
func TestWriteCost(t *testing.T) {
	s, table := newStore(t)
	ctx := context.Background()
	db := dynamotest.Client(t)
	tk := sampleTicket(helpdesk.NewID("tkt_"), time.Now())
	mustCreate(t, s, tk)
	key := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "TICKET#" + tk.ID},
		"sk": &types.AttributeValueMemberS{Value: "TICKET"},
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	item := out.Item
	capacity := func(c *types.ConsumedCapacity) (float64, int) {
		if c == nil {
			t.Fatal("no consumed capacity reported")
		}
		return aws.ToFloat64(c.CapacityUnits), len(c.GlobalSecondaryIndexes)
	}
	del, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		t.Fatal(err)
	}
	put, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		t.Fatal(err)
	}
	item["ix_u"] = &types.AttributeValueMemberS{Value: "2099-01-01T00:00:00.000Z#x"}
	item["status"] = &types.AttributeValueMemberS{Value: "open"}
	upd, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		t.Fatal(err)
	}
	createWCU, createIdx := capacity(put.ConsumedCapacity)
	updateWCU, _ := capacity(upd.ConsumedCapacity)
	deleteWCU, _ := capacity(del.ConsumedCapacity)
	if createIdx == 0 || createWCU <= 1 {
		t.Fatalf("create reported %.1f WCU over %d indexes; the indexes' writes are missing", createWCU, createIdx)
	}
	if testing.Verbose() {
		fmt.Printf("\nwrite cost of an assigned ticket (%d indexes): create %.0f WCU, update %.0f WCU, delete %.0f WCU\n", createIdx, createWCU, updateWCU, deleteWCU)
	}
}
