package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// API is the part of the DynamoDB client the stores use. *dynamodb.Client
// implements it; tests wrap it to inject faults.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// maxAttempts bounds the read-modify-write loop of an update under
// contention before it answers CodeConflict.
const maxAttempts = 8

// pause waits a random 0 to 5·2^attempt ms before an update retries, so
// that writers who lost a race do not collide again in lockstep.
func pause(ctx context.Context, attempt int) error {
	return sleep(ctx, time.Duration(rand.Int64N(int64(5*time.Millisecond)<<attempt)))
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Store keeps tickets, their comments, custom field definitions and API
// keys in one table. It implements helpdesk.TicketStore,
// helpdesk.CommentStore, helpdesk.CustomFieldStore, helpdesk.APIKeyStore
// and helpdesk.WebhookStore.
type Store struct {
	db      API
	table   string
	cursors func(context.Context) (*cursor.Codec, error)
	now     func() time.Time
	// Observe, when set, is called with the cost of every list page.
	Observe func(PageStats)
	// ObserveComments, when set, is called with the cost of every page
	// of a conversation.
	ObserveComments func(CommentPageStats)
}

var (
	_ helpdesk.TicketStore      = (*Store)(nil)
	_ helpdesk.CustomFieldStore = (*Store)(nil)
	_ helpdesk.APIKeyStore      = (*Store)(nil)
)

// New returns a Store on the named table. cursors seals list cursors; it
// may be nil for a store that serves no lists (e.g. the key command).
func New(db API, table string, cursors *cursor.Codec) *Store {
	return NewLazyCursors(db, table, func(context.Context) (*cursor.Codec, error) {
		if cursors == nil {
			return nil, errNoCursors
		}
		return cursors, nil
	})
}

// NewLazyCursors returns a Store like New's whose cursor codec comes from
// cursors when a page first needs one (cursor.Lazy's Codec, say), so that
// a function need not fetch its cursor key before it serves.
func NewLazyCursors(db API, table string, cursors func(context.Context) (*cursor.Codec, error)) *Store {
	return &Store{db: db, table: table, cursors: cursors, now: time.Now}
}

// SetClock replaces the store's clock (tests; the default is time.Now).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// errUnavailable is what a client sees when DynamoDB throttled or failed a
// request even after the SDK's retries: 503, retry shortly.
var errUnavailable = helpdesk.Errorf(helpdesk.CodeUnavailable, "The service is busy; retry shortly.")

// translate wraps err with context and, when it is transient (throttling,
// DynamoDB's own 5xx, a timed-out attempt, a transaction conflict), with
// errUnavailable too, so that the client is told to retry rather than
// that something is broken.
func translate(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if transient(err) {
		return fmt.Errorf("%s: %w: %w", what, errUnavailable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// transient reports whether err is a failure that retrying later can cure.
func transient(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"InternalServerError", "ServiceUnavailable", "TransactionConflictException", "TransactionInProgressException":
			return true
		}
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
				return true
			}
		}
	}
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
}

// sameCreation reports whether item, found where a create wanted to put a
// new one, was created at createdAt. Ids are random, so it then is the very
// item the create wrote in an earlier attempt whose answer was lost.
func sameCreation(item map[string]types.AttributeValue, createdAt time.Time) bool {
	v, ok := item["createdAt"].(*types.AttributeValueMemberS)
	return ok && v.Value == formatTime(createdAt)
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// errNoCursors is the internal error of a store built without a cursor
// codec asked to page.
var errNoCursors = errors.New("this store has no cursor codec: configure a cursor key")

var (
	errTicketNotFound = helpdesk.Errorf(helpdesk.CodeNotFound, "Ticket not found.")
	errFieldNotFound  = helpdesk.Errorf(helpdesk.CodeNotFound, "Custom field not found.")
	errKeyNotFound    = helpdesk.Errorf(helpdesk.CodeNotFound, "API key not found.")
	errContention     = helpdesk.Errorf(helpdesk.CodeConflict, "The resource is being changed by other requests; retry.")
	errTicketExists   = helpdesk.Errorf(helpdesk.CodeConflict, "A ticket with this id exists.")
	errKeyExists      = helpdesk.Errorf(helpdesk.CodeConflict, "This API key exists.")
)

// CreateTicket implements helpdesk.TicketStore with one conditional put,
// or a transaction with done's completion.
func (s *Store) CreateTicket(ctx context.Context, t *helpdesk.Ticket, done *helpdesk.Completion) error {
	t.Version = 1
	item, err := marshalTicket(t)
	if err != nil {
		return err
	}
	return s.create(ctx, "ticket "+t.ID, item, t.CreatedAt, done, errTicketExists)
}

// create puts a new item, conditional on its key being free, with done's
// completion in the same transaction when done is set. An item already
// there is answered exists, unless it is the very item, put by an earlier
// attempt whose answer was lost (see sameCreation).
func (s *Store) create(ctx context.Context, what string, item map[string]types.AttributeValue, createdAt time.Time, done *helpdesk.Completion, exists error) error {
	put := &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if done != nil {
		failed, err := s.transact(ctx, "create "+what, []types.TransactWriteItem{{Put: put}}, done)
		if failed != nil {
			return exists // the key is taken, and done's claim is not this create's
		}
		return err
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf) && sameCreation(ccf.Item, createdAt):
		return nil // an earlier attempt of this put landed; only its answer was lost
	case errors.As(err, &ccf):
		return exists
	case err != nil:
		return translate(err, "put %s", what)
	}
	return nil
}

// Ticket implements helpdesk.TicketStore with one strongly consistent read.
func (s *Store) Ticket(ctx context.Context, id string) (*helpdesk.Ticket, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(kindTicket, id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, translate(err, "get ticket %s", id)
	}
	if out.Item == nil {
		return nil, errTicketNotFound
	}
	return unmarshalTicket(out.Item)
}

// UpdateTicket implements helpdesk.TicketStore: a read, then a put
// conditional on the version read. When another writer won, the put's
// failure returns the winner's item, so a retry costs one call.
func (s *Store) UpdateTicket(ctx context.Context, id string, fn func(*helpdesk.Ticket) (bool, error)) (*helpdesk.Ticket, error) {
	current, err := s.Ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	for attempt := range maxAttempts {
		t := current
		changed, err := fn(t)
		if err != nil || !changed {
			return t, err
		}
		t.Version++
		item, err := marshalTicket(t)
		if err != nil {
			return nil, err
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                           aws.String(s.table),
			Item:                                item,
			ConditionExpression:                 aws.String("ver = :v"),
			ExpressionAttributeValues:           map[string]types.AttributeValue{":v": number(t.Version - 1)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		var ccf *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			return t, nil
		case errors.As(err, &ccf) && ccf.Item == nil:
			return nil, errTicketNotFound
		case errors.As(err, &ccf):
			if current, err = unmarshalTicket(ccf.Item); err != nil {
				return nil, err
			}
			if current.Version == t.Version && current.UpdatedAt.Equal(t.UpdatedAt) && current.SameContent(t) {
				return t, nil // an earlier attempt of this put landed; only its answer was lost
			}
			if err := pause(ctx, attempt); err != nil {
				return nil, err
			}
		default:
			return nil, translate(err, "put ticket %s", id)
		}
	}
	return nil, errContention
}

// queryAll runs a query to its end and returns every item.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, translate(err, "query %s", aws.ToString(in.IndexName))
		}
		items = append(items, out.Items...)
		if out.LastEvaluatedKey == nil {
			return items, nil
		}
		next := *in // a call's input stays as it was sent
		next.ExclusiveStartKey = out.LastEvaluatedKey
		in = &next
	}
}

// batchGet reads the items at keys with consistent BatchGetItem calls of at
// most 100 keys, again for those DynamoDB leaves unprocessed, and returns
// those that exist, in no particular order. projection, when set, limits
// the attributes read.
func (s *Store) batchGet(ctx context.Context, what string, keys []map[string]types.AttributeValue, projection string) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 100)]
		keys = keys[len(batch):]
		ka := types.KeysAndAttributes{Keys: batch, ConsistentRead: aws.Bool(true)}
		if projection != "" {
			ka.ProjectionExpression = aws.String(projection)
		}
		req := map[string]types.KeysAndAttributes{s.table: ka}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return nil, fmt.Errorf("%s: %w", what, err)
				}
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, translate(err, "%s", what)
			}
			items = append(items, out.Responses[s.table]...)
			req = out.UnprocessedKeys
		}
	}
	return items, nil
}

// kindQuery lists the items of one kind, oldest first.
func (s *Store) kindQuery(kind string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(kindCreatedIndex),
		KeyConditionExpression:    aws.String("#k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": attrKind},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: kind}},
	}
}
