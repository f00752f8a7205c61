package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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

// Store keeps tickets, custom field definitions and API keys in one table.
// It implements helpdesk.TicketStore, helpdesk.CustomFieldStore,
// helpdesk.APIKeyStore and helpdesk.WebhookStore.
type Store struct {
	db      API
	table   string
	cursors func(context.Context) (*cursor.Codec, error)
	now     func() time.Time
	// Observe, when set, is called with the cost of every list page.
	Observe func(PageStats)
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

// translate maps DynamoDB errors that clients should see to domain errors
// and wraps the rest with context.
func translate(err error, format string, args ...any) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded":
			return &helpdesk.Error{Code: helpdesk.CodeRateLimited, Message: "The service is busy; retry shortly."}
		}
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
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
)

// CreateTicket implements helpdesk.TicketStore with one conditional put.
func (s *Store) CreateTicket(ctx context.Context, t *helpdesk.Ticket) error {
	t.Version = 1
	item, err := marshalTicket(t)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if isConditionFailed(err) {
		return helpdesk.Errorf(helpdesk.CodeConflict, "A ticket with this id exists.")
	}
	if err != nil {
		return translate(err, "put ticket %s", t.ID)
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
			ExpressionAttributeValues:           map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(t.Version - 1)}},
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
			if err := pause(ctx, attempt); err != nil {
				return nil, err
			}
		default:
			return nil, translate(err, "put ticket %s", id)
		}
	}
	return nil, errContention
}

// DeleteTicket implements helpdesk.TicketStore with one conditional delete.
func (s *Store) DeleteTicket(ctx context.Context, id string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: itemKey(kindTicket, id),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if isConditionFailed(err) {
		return errTicketNotFound
	}
	if err != nil {
		return translate(err, "delete ticket %s", id)
	}
	return nil
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
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
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
