package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// APIKeyByHash implements helpdesk.APIKeyStore with one read by digest.
func (s *Store) APIKeyByHash(ctx context.Context, hash [32]byte) (*helpdesk.APIKey, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(kindKey, fmt.Sprintf("%x", hash)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, translate(err, "get api key")
	}
	if out.Item == nil {
		return nil, errKeyNotFound
	}
	return unmarshalKey(out.Item)
}

// CreateAPIKey implements helpdesk.APIKeyStore.
func (s *Store) CreateAPIKey(ctx context.Context, k *helpdesk.APIKey) error {
	item, err := marshalKey(k)
	if err != nil {
		return err
	}
	return s.create(ctx, "api key "+k.ID, item, k.CreatedAt, nil, errKeyExists)
}

// ListAPIKeys implements helpdesk.APIKeyStore.
func (s *Store) ListAPIKeys(ctx context.Context) ([]*helpdesk.APIKey, error) {
	items, err := s.queryAll(ctx, s.kindQuery(kindKey))
	if err != nil {
		return nil, err
	}
	keys := make([]*helpdesk.APIKey, 0, len(items))
	for _, item := range items {
		k, err := unmarshalKey(item)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// RevokeAPIKey implements helpdesk.APIKeyStore. Keys are few, so the key
// is found by listing them.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	keys, err := s.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.ID != id {
			continue
		}
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.table), Key: itemKey(kindKey, fmt.Sprintf("%x", k.Hash)),
			UpdateExpression:          aws.String("SET revokedAt = if_not_exists(revokedAt, :t)"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberS{Value: formatTime(at)}},
		})
		if isConditionFailed(err) {
			return errKeyNotFound
		}
		if err != nil {
			return translate(err, "revoke api key %s", id)
		}
		return nil
	}
	return errKeyNotFound
}
