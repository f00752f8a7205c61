package dynamotest

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/dynamo"
)

// Metered is a DynamoDB client that asks for the consumed capacity of
// every call (indexes included) and adds it up, so that a test can measure
// what the store's own code paths cost. It is safe for concurrent use.
type Metered struct {
	dynamo.API

	mu sync.Mutex
	u  Usage
}

// NewMetered wraps db.
func NewMetered(db dynamo.API) *Metered { return &Metered{API: db, u: newUsage()} }

// Usage is what the calls since the last Take consumed.
type Usage struct {
	// Calls counts the calls by operation name.
	Calls map[string]int
	// RCU and WCU are the capacity units consumed, indexes included.
	RCU, WCU float64
	// TableRCU and TableWCU are the part of RCU and WCU the table's own
	// items took; IndexRCU and IndexWCU the rest, by index name. A
	// design's costs differ by where they fall: an index partition
	// throttles on its own.
	TableRCU, TableWCU float64
	IndexRCU, IndexWCU map[string]float64
	// Scanned counts the items Query calls read, before any filter
	// (their ScannedCount): what a page paid for, beside what it returned.
	Scanned int
}

func newUsage() Usage {
	return Usage{Calls: map[string]int{}, IndexRCU: map[string]float64{}, IndexWCU: map[string]float64{}}
}

// RoundTrips returns the number of calls made.
func (u Usage) RoundTrips() int {
	n := 0
	for _, c := range u.Calls {
		n += c
	}
	return n
}

// Take returns the usage since the last Take and starts counting afresh.
func (m *Metered) Take() Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.u
	m.u = newUsage()
	return u
}

func (m *Metered) add(op string, read bool, cs ...types.ConsumedCapacity) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.u.Calls[op]++
	total, table, indexes := &m.u.WCU, &m.u.TableWCU, m.u.IndexWCU
	if read {
		total, table, indexes = &m.u.RCU, &m.u.TableRCU, m.u.IndexRCU
	}
	for _, c := range cs {
		*total += aws.ToFloat64(c.CapacityUnits)
		if c.Table != nil {
			*table += aws.ToFloat64(c.Table.CapacityUnits)
		}
		for name, ix := range c.GlobalSecondaryIndexes {
			indexes[name] += aws.ToFloat64(ix.CapacityUnits)
		}
	}
}

func one(c *types.ConsumedCapacity) []types.ConsumedCapacity {
	if c == nil {
		return nil
	}
	return []types.ConsumedCapacity{*c}
}

// GetItem implements dynamo.API.
func (m *Metered) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.API.GetItem(ctx, in, opts...)
	if err == nil {
		m.add("GetItem", true, one(out.ConsumedCapacity)...)
	}
	return out, err
}

// PutItem implements dynamo.API.
func (m *Metered) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.API.PutItem(ctx, in, opts...)
	if err == nil {
		m.add("PutItem", false, one(out.ConsumedCapacity)...)
	}
	return out, err
}

// UpdateItem implements dynamo.API.
func (m *Metered) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.API.UpdateItem(ctx, in, opts...)
	if err == nil {
		m.add("UpdateItem", false, one(out.ConsumedCapacity)...)
	}
	return out, err
}

// DeleteItem implements dynamo.API.
func (m *Metered) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.API.DeleteItem(ctx, in, opts...)
	if err == nil {
		m.add("DeleteItem", false, one(out.ConsumedCapacity)...)
	}
	return out, err
}

// Query implements dynamo.API.
func (m *Metered) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.API.Query(ctx, in, opts...)
	if err == nil {
		m.add("Query", true, one(out.ConsumedCapacity)...)
		m.mu.Lock()
		m.u.Scanned += int(out.ScannedCount)
		m.mu.Unlock()
	}
	return out, err
}

// BatchGetItem implements dynamo.API.
func (m *Metered) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.API.BatchGetItem(ctx, in, opts...)
	if err == nil {
		m.add("BatchGetItem", true, out.ConsumedCapacity...)
	}
	return out, err
}

// BatchWriteItem implements dynamo.API.
func (m *Metered) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.API.BatchWriteItem(ctx, in, opts...)
	if err == nil {
		m.add("BatchWriteItem", false, out.ConsumedCapacity...)
	}
	return out, err
}

// TransactWriteItems implements dynamo.API.
func (m *Metered) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	out, err := m.API.TransactWriteItems(ctx, in, opts...)
	if err == nil {
		m.add("TransactWriteItems", false, out.ConsumedCapacity...)
	}
	return out, err
}
