package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/helpdesk"
)

var errNameTaken = helpdesk.Errorf(helpdesk.CodeConflict, "A custom field with this name exists.")

// CreateCustomField implements helpdesk.CustomFieldStore: the definition,
// its name reservation and done's completion are written in one
// transaction.
func (s *Store) CreateCustomField(ctx context.Context, f *helpdesk.CustomField, done *helpdesk.Completion) error {
	f.Version = 1
	item, err := marshalField(f)
	if err != nil {
		return err
	}
	name, err := marshalName(f)
	if err != nil {
		return err
	}
	failed, err := s.transact(ctx, "create custom field "+f.ID, []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: name, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}, done)
	switch {
	case failed == nil:
		return err
	case conditionFailed(failed[0]) && sameCreation(failed[0].Item, f.CreatedAt):
		return nil // an earlier attempt of this transaction landed; only its answer was lost
	case conditionFailed(failed[0]):
		return helpdesk.Errorf(helpdesk.CodeConflict, "A custom field with this id exists.")
	default:
		return errNameTaken
	}
}

// cancelled reports, for a transaction cancelled by failed conditions,
// which of its items failed; nil for any other outcome.
func cancelled(err error) []bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	failed := make([]bool, len(tce.CancellationReasons))
	anyFailed := false
	for i, r := range tce.CancellationReasons {
		failed[i] = conditionFailed(r)
		anyFailed = anyFailed || failed[i]
	}
	if !anyFailed {
		return nil
	}
	return failed
}

// CustomField implements helpdesk.CustomFieldStore.
func (s *Store) CustomField(ctx context.Context, id string) (*helpdesk.CustomField, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(kindField, id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, translate(err, "get custom field %s", id)
	}
	if out.Item == nil {
		return nil, errFieldNotFound
	}
	return unmarshalField(out.Item)
}

// CustomFieldsByID implements helpdesk.CustomFieldStore with consistent
// batch reads (at most 100 ids a call).
func (s *Store) CustomFieldsByID(ctx context.Context, ids []string) (map[string]*helpdesk.CustomField, error) {
	found := make(map[string]*helpdesk.CustomField, len(ids))
	seen := make(map[string]bool, len(ids))
	var keys []map[string]types.AttributeValue
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, itemKey(kindField, id))
		}
	}
	items, err := s.batchGet(ctx, "batch get custom fields", keys, "")
	if err != nil {
		return nil, err
	}
	for _, item := range items {
		f, err := unmarshalField(item)
		if err != nil {
			return nil, err
		}
		found[f.ID] = f
	}
	return found, nil
}

// ListCustomFields implements helpdesk.CustomFieldStore.
func (s *Store) ListCustomFields(ctx context.Context) ([]*helpdesk.CustomField, error) {
	items, err := s.queryAll(ctx, s.kindQuery(kindField))
	if err != nil {
		return nil, err
	}
	fields := make([]*helpdesk.CustomField, 0, len(items))
	for _, item := range items {
		f, err := unmarshalField(item)
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// UpdateCustomField implements helpdesk.CustomFieldStore. A rename moves
// the name reservation in the same transaction as the definition.
func (s *Store) UpdateCustomField(ctx context.Context, id string, fn func(*helpdesk.CustomField) (bool, error)) (*helpdesk.CustomField, error) {
	for range maxAttempts {
		f, err := s.CustomField(ctx, id)
		if err != nil {
			return nil, err
		}
		oldName := f.Name
		changed, err := fn(f)
		if err != nil || !changed {
			return f, err
		}
		f.Version++
		item, err := marshalField(f)
		if err != nil {
			return nil, err
		}
		tx := []types.TransactWriteItem{{Put: &types.Put{
			TableName: aws.String(s.table), Item: item,
			ConditionExpression:       aws.String("ver = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(f.Version - 1)}},
		}}}
		if nameKeyID(oldName) != nameKeyID(f.Name) {
			name, err := marshalName(f)
			if err != nil {
				return nil, err
			}
			tx = append(tx,
				types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: name, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
				types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: itemKey(kindName, nameKeyID(oldName))}},
			)
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		failed := cancelled(err)
		switch {
		case err == nil:
			return f, nil
		case len(failed) > 1 && failed[1]:
			return nil, errNameTaken
		case failed != nil:
			continue // the definition changed under us: read again
		default:
			return nil, translate(err, "update custom field %s", id)
		}
	}
	return nil, errContention
}

// DeleteCustomField implements helpdesk.CustomFieldStore: the definition
// and its name reservation go in one transaction.
func (s *Store) DeleteCustomField(ctx context.Context, id string) error {
	for range maxAttempts {
		f, err := s.CustomField(ctx, id)
		if err != nil {
			return err
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Delete: &types.Delete{
				TableName: aws.String(s.table), Key: itemKey(kindField, id),
				ConditionExpression:       aws.String("ver = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(f.Version)}},
			}},
			{Delete: &types.Delete{TableName: aws.String(s.table), Key: itemKey(kindName, nameKeyID(f.Name))}},
		}})
		switch {
		case err == nil:
			return nil
		case cancelled(err) != nil:
			continue
		default:
			return translate(err, "delete custom field %s", id)
		}
	}
	return errContention
}

// backoff waits before retrying the unprocessed part of a batch: 20 ms
// doubling per attempt, up to about 2.5 s in all.
func backoff(ctx context.Context, attempt int) error {
	if attempt > 7 {
		return errUnavailable
	}
	return sleep(ctx, time.Duration(10<<attempt)*time.Millisecond)
}
