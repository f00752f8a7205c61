package bench_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// sdkCalls watches a DynamoDB client: it counts its round trips (every
// attempt, retries included) and, while recording, keeps the input of
// every call, so that a request's bare baseline can replay exactly the
// calls the request made.
type sdkCalls struct {
	roundTrips atomic.Int64

	mu        sync.Mutex
	recording bool
	inputs    []any
}

// client returns a client like base — same options, same HTTP client —
// that reports to c. The stack and its baseline both use it, so the
// watching costs them alike.
func (c *sdkCalls) client(base *dynamodb.Client) *dynamodb.Client {
	return dynamodb.New(base.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, c.attach)
	})
}

func (c *sdkCalls) attach(st *middleware.Stack) error {
	record := middleware.InitializeMiddlewareFunc("BenchRecord", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		c.mu.Lock()
		if c.recording {
			c.inputs = append(c.inputs, in.Parameters)
		}
		c.mu.Unlock()
		return next.HandleInitialize(ctx, in)
	})
	if err := st.Initialize.Add(record, middleware.Before); err != nil {
		return err
	}
	// After the retry middleware, so once per attempt.
	count := middleware.FinalizeMiddlewareFunc("BenchRoundTrips", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		c.roundTrips.Add(1)
		return next.HandleFinalize(ctx, in)
	})
	return st.Finalize.Add(count, middleware.After)
}

// record returns the inputs of the calls fn makes.
func (c *sdkCalls) record(fn func() error) ([]any, error) {
	c.mu.Lock()
	c.recording, c.inputs = true, nil
	c.mu.Unlock()
	err := fn()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recording = false
	return c.inputs, err
}

// replay makes one recorded call again with db. A PutItem gets a fresh
// ticket id in its key (the recorded one exists by now), so that its
// attribute_not_exists condition holds as it did for the request. A
// comment's transaction puts both items under a fresh ticket id too, and
// its ticket put's version condition (which a new id can never meet)
// becomes attribute_not_exists, a condition of the same cost: the same
// items are written, in one transaction, and both conditions hold, as
// they did for the request. Every other call is sent exactly as recorded.
func replay(ctx context.Context, db *dynamodb.Client, in any) error {
	var err error
	switch in := in.(type) {
	case *dynamodb.GetItemInput:
		_, err = db.GetItem(ctx, in)
	case *dynamodb.QueryInput:
		_, err = db.Query(ctx, in)
	case *dynamodb.PutItemInput:
		_, err = db.PutItem(ctx, freshTicketKey(in))
	case *dynamodb.BatchGetItemInput:
		_, err = db.BatchGetItem(ctx, in)
	case *dynamodb.TransactWriteItemsInput:
		_, err = db.TransactWriteItems(ctx, freshTransaction(in))
	default:
		return fmt.Errorf("bench: no replay for %T", in)
	}
	return err
}

// freshTicketKey returns a copy of a ticket's PutItem whose partition key
// names a new ticket id.
func freshTicketKey(in *dynamodb.PutItemInput) *dynamodb.PutItemInput {
	out := *in
	out.Item = freshTicketKeyAs(in.Item, helpdesk.NewID("tkt_"))
	return &out
}

// freshTicketKeyAs returns a copy of item whose partition key names id.
func freshTicketKeyAs(item map[string]types.AttributeValue, id string) map[string]types.AttributeValue {
	out := maps.Clone(item)
	if pk, ok := item["pk"].(*types.AttributeValueMemberS); ok {
		prefix, _, _ := strings.Cut(pk.Value, "#")
		out["pk"] = &types.AttributeValueMemberS{Value: prefix + "#" + id}
	}
	return out
}

// freshTransaction returns a copy of a transaction of puts in one ticket's
// partition with the partition key naming a new ticket id, every condition
// attribute_not_exists(pk), and no client token.
func freshTransaction(in *dynamodb.TransactWriteItemsInput) *dynamodb.TransactWriteItemsInput {
	id := helpdesk.NewID("tkt_")
	out := *in
	// A new token, as the request's own call got: the recorded one names
	// a transaction already made, with other items.
	out.ClientRequestToken = nil
	out.TransactItems = make([]types.TransactWriteItem, len(in.TransactItems))
	for i, ti := range in.TransactItems {
		if ti.Put != nil {
			put := *ti.Put
			put.Item = freshTicketKeyAs(put.Item, id)
			put.ConditionExpression = aws.String("attribute_not_exists(pk)")
			put.ExpressionAttributeValues = nil
			ti.Put = &put
		}
		out.TransactItems[i] = ti
	}
	return &out
}
