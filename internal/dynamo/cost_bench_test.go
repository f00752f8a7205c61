package dynamo_test

import (
	"fmt"
	"testing"
)

// BenchmarkListCost reports, for every filter combination x sort x order
// in default-size pages over the 160 tickets TestReadAmplification walks,
// what DynamoDB read per item returned (read/returned) and per item the
// filters matched (read/matched), the read capacity and the Query calls of
// a page. The numbers are counts, not times: one walk gives them.
//
//	go test -run '^$' -bench ListCost -benchtime 1x ./internal/dynamo/
func BenchmarkListCost(b *testing.B) {
	s := costStore(b)
	for _, q := range costQueries() {
		b.Run(fmt.Sprintf("filters=%s/sort=%s/order=%s", describe(q), q.SortBy, q.Order), func(b *testing.B) {
			var c walkCost
			for b.Loop() {
				c = measureWalk(b, s, q)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(c.readPerReturned(), "read/returned")
			b.ReportMetric(c.readPerMatched(), "read/matched")
			b.ReportMetric(c.rcuPerPage(), "RCU/page")
			b.ReportMetric(float64(c.calls)/float64(len(c.pages)), "calls/page")
		})
	}
}

// BenchmarkItemCost reports the capacity of a typical (assigned) ticket's
// calls, as TestWriteCost measures them: a GET's read units and the write
// units of a create, an update and a delete, indexes included.
//
//	go test -run '^$' -bench ItemCost -benchtime 1x ./internal/dynamo/
func BenchmarkItemCost(b *testing.B) {
	var c itemCost
	for b.Loop() {
		c = measureItemCost(b)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(c.getRCU, "get-RCU")
	b.ReportMetric(c.createWCU, "create-WCU")
	b.ReportMetric(c.updateWCU, "update-WCU")
	b.ReportMetric(c.deleteWCU, "delete-WCU")
	b.ReportMetric(float64(c.indexes), "indexes")
}

// BenchmarkCommentCost reports what a comment costs through the store's
// own calls, as TestCommentCost measures it: a new comment's read and
// write units (the ticket's read, and the transaction of the comment and
// the ticket), the same two writes made apart, and a 25-comment page's
// read units (the Query and the ticket's read) and items read per comment
// returned, unfiltered and for public replies only.
//
//	go test -run '^$' -bench CommentCost -benchtime 1x ./internal/dynamo/
func BenchmarkCommentCost(b *testing.B) {
	var c commentCost
	for b.Loop() {
		c = measureCommentCost(b)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(c.createRCU, "create-RCU")
	b.ReportMetric(c.createWCU, "create-WCU")
	b.ReportMetric(c.plainWCU, "apart-WCU")
	b.ReportMetric(c.pageRCU, "page-RCU")
	b.ReportMetric(c.pageRead, "page-read/returned")
	b.ReportMetric(c.publicRCU, "public-page-RCU")
	b.ReportMetric(c.publicRead, "public-read/returned")
}
