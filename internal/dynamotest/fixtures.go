package dynamotest

import (
	"bytes"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/ddblocal"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// CursorKey seals the cursors of the stores and systems tests make.
var CursorKey = bytes.Repeat([]byte{42}, cursor.KeySize)

// NewStore returns a store on a fresh table of the shared design, with
// cursors sealed by CursorKey, and the table's name.
func NewStore(tb testing.TB) (*dynamo.Store, string) {
	tb.Helper()
	table := NewTable(tb, dynamo.Table.CreateTableInput)
	return StoreOn(tb, Client(tb), table), table
}

// StoreOn returns a store on table through db, with cursors sealed by
// CursorKey: a second view of a table, say, through a client without
// faults.
func StoreOn(tb testing.TB, db dynamo.API, table string) *dynamo.Store {
	tb.Helper()
	codec, err := cursor.New(CursorKey)
	if err != nil {
		tb.Fatal(err)
	}
	return dynamo.New(db, table, codec)
}

// AddKey registers a new API key with perm and returns the key.
func AddKey(tb testing.TB, store *dynamo.Store, perm helpdesk.Permission) string {
	tb.Helper()
	key, hash, id := auth.NewKey()
	if err := store.CreateAPIKey(tb.Context(), &helpdesk.APIKey{ID: id, Name: "test " + string(perm), Permission: perm, Hash: hash, CreatedAt: Now()}); err != nil {
		tb.Fatalf("CreateAPIKey: %v", err)
	}
	return key
}

// AddLimitedKey registers a new API key with perm and its own rate limit
// (requests per minute) and returns the key.
func AddLimitedKey(tb testing.TB, store *dynamo.Store, perm helpdesk.Permission, limit int) string {
	tb.Helper()
	key, hash, id := auth.NewKey()
	if err := store.CreateAPIKey(tb.Context(), &helpdesk.APIKey{ID: id, Name: "limited " + string(perm), Permission: perm, Hash: hash, RateLimit: limit, CreatedAt: Now()}); err != nil {
		tb.Fatalf("CreateAPIKey: %v", err)
	}
	return key
}

// Now is the current time as the store keeps it.
func Now() time.Time { return helpdesk.Clock(nil).Now() }

// Deletion is a deletion now by the system, as a store's DeleteTicket
// takes it.
func Deletion() helpdesk.Stamp { return helpdesk.Stamp{At: Now(), By: helpdesk.System} }

// CreateTicket stores a new ticket, adjusted by edit when it is not nil.
func CreateTicket(tb testing.TB, store *dynamo.Store, edit func(*helpdesk.Ticket)) *helpdesk.Ticket {
	tb.Helper()
	t := helpdesk.NewTicket(helpdesk.NewID("tkt_"), Now())
	t.Subject = "Printer on fire"
	if edit != nil {
		edit(t)
	}
	if err := store.CreateTicket(tb.Context(), t, nil); err != nil {
		tb.Fatalf("CreateTicket: %v", err)
	}
	return t
}

// UpdateTicket changes a stored ticket with edit (which may be nil) and
// moves its updatedAt forward, and returns it as stored.
func UpdateTicket(tb testing.TB, store *dynamo.Store, id string, edit func(*helpdesk.Ticket)) *helpdesk.Ticket {
	tb.Helper()
	t, err := store.UpdateTicket(tb.Context(), id, func(t *helpdesk.Ticket) (bool, error) {
		if edit != nil {
			edit(t)
		}
		next := Now()
		if !next.After(t.UpdatedAt) {
			next = t.UpdatedAt.Add(time.Millisecond)
		}
		t.UpdatedAt = next
		return true, nil
	})
	if err != nil {
		tb.Fatalf("UpdateTicket: %v", err)
	}
	return t
}

// Subscribe stores an active subscription of url to types.
func Subscribe(tb testing.TB, store *dynamo.Store, url string, types ...string) *helpdesk.Webhook {
	tb.Helper()
	now := Now()
	w := &helpdesk.Webhook{
		ID: helpdesk.NewID("whk_"), URL: url, Events: types, Status: helpdesk.WebhookActive,
		Secret: events.NewSecret(), CreatedAt: now, UpdatedAt: now,
	}
	if err := store.CreateWebhook(tb.Context(), w, nil); err != nil {
		tb.Fatalf("CreateWebhook: %v", err)
	}
	return w
}

// ReadStream reads the whole stream of table from its start, waiting up to
// 10 s for it to hold want records, and returns them as Lambda delivers
// them. It fails the test if it holds more.
func ReadStream(tb testing.TB, table string, want int) []lambdaevents.DynamoDBEventRecord {
	tb.Helper()
	recs := ReadStreamUntil(tb, table, func(recs []lambdaevents.DynamoDBEventRecord) bool { return len(recs) >= want })
	if len(recs) != want {
		tb.Fatalf("the stream of %s holds %d records, want %d", table, len(recs), want)
	}
	return recs
}

// ReadStreamUntil reads the whole stream of table from its start, as
// Lambda delivers it, until done accepts what it holds (for up to 10 s).
func ReadStreamUntil(tb testing.TB, table string, done func([]lambdaevents.DynamoDBEventRecord) bool) []lambdaevents.DynamoDBEventRecord {
	tb.Helper()
	ctx := tb.Context()
	desc, err := Client(tb).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		tb.Fatalf("DescribeTable: %v", err)
	}
	arn := desc.Table.LatestStreamArn
	if arn == nil {
		tb.Fatalf("table %s has no stream", table)
	}
	streams := StreamsClient(tb)
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw := readShards(tb, streams, arn)
		recs := make([]lambdaevents.DynamoDBEventRecord, len(raw))
		for i, r := range raw {
			recs[i] = ddblocal.LambdaRecord(r)
		}
		if done(recs) {
			return recs
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the stream of %s still lacks what the test waits for after 10 s (%d records)", table, len(recs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// RecordsAfter returns the records of recs after the one with the sequence
// number seq.
func RecordsAfter(tb testing.TB, recs []lambdaevents.DynamoDBEventRecord, seq string) []lambdaevents.DynamoDBEventRecord {
	tb.Helper()
	for i, r := range recs {
		if r.Change.SequenceNumber == seq {
			return recs[i+1:]
		}
	}
	tb.Fatalf("no stream record has sequence number %s", seq)
	return nil
}

// readShards returns every record of every shard of a stream, from the
// start.
func readShards(tb testing.TB, streams *dynamodbstreams.Client, arn *string) []streamtypes.Record {
	tb.Helper()
	ctx := tb.Context()
	var shards []streamtypes.Shard
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: arn}
	for {
		out, err := streams.DescribeStream(ctx, in)
		if err != nil {
			tb.Fatalf("DescribeStream: %v", err)
		}
		shards = append(shards, out.StreamDescription.Shards...)
		if out.StreamDescription.LastEvaluatedShardId == nil {
			break
		}
		in.ExclusiveStartShardId = out.StreamDescription.LastEvaluatedShardId
	}
	var recs []streamtypes.Record
	for _, sh := range shards {
		it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: arn, ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			tb.Fatalf("GetShardIterator: %v", err)
		}
		for iter := it.ShardIterator; iter != nil; {
			out, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				tb.Fatalf("GetRecords: %v", err)
			}
			if len(out.Records) == 0 {
				break // the open end of the shard
			}
			recs = append(recs, out.Records...)
			iter = out.NextShardIterator
		}
	}
	return recs
}

// TicketPartition returns every item left in a ticket's partition of
// table (the ticket and its comments), read through db consistently, so
// that a test can see what a write or a purge left behind.
func TicketPartition(tb testing.TB, db dynamo.API, table, ticketID string) []map[string]types.AttributeValue {
	tb.Helper()
	var items []map[string]types.AttributeValue
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: dynamo.TicketKeyPrefix + ticketID}},
		ConsistentRead:            aws.Bool(true),
	}
	for {
		out, err := db.Query(tb.Context(), in)
		if err != nil {
			tb.Fatalf("query the partition of %s: %v", ticketID, err)
		}
		items = append(items, out.Items...)
		if out.LastEvaluatedKey == nil {
			return items
		}
		next := *in
		next.ExclusiveStartKey = out.LastEvaluatedKey
		in = &next
	}
}

// CommandEnv points a command that reads its table and endpoint from the
// environment, as the keys and migrate commands do, at table on the
// package's DynamoDB Local, with no shared AWS configuration in the way.
func CommandEnv(tb testing.TB, table string) {
	tb.Helper()
	for k, v := range map[string]string{
		"HELPDESK_TABLE": table, "AWS_ENDPOINT_URL": Endpoint(tb), "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
	} {
		tb.Setenv(k, v)
	}
}
