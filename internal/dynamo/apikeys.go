package dynamo

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// kindKeyID is the kind of the item that points from a key's id to its
// digest, under which the key is stored: a key is found by digest on every
// request, by id only when it is managed.
const kindKeyID = "KEYID"

// keyIDItem points from an API key's id to the hex digest its item is
// kept under. It is written with the key, in one transaction.
type keyIDItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	Digest string `dynamodbav:"digest"`
}

func digestKey(hash [32]byte) map[string]types.AttributeValue {
	return itemKey(kindKey, hex.EncodeToString(hash[:]))
}

// APIKeyByHash implements helpdesk.APIKeyStore with one read by digest.
func (s *Store) APIKeyByHash(ctx context.Context, hash [32]byte) (*helpdesk.APIKey, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: digestKey(hash), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, translate(err, "get api key")
	}
	if out.Item == nil {
		return nil, errKeyNotFound
	}
	return unmarshalKey(out.Item)
}

// APIKey implements helpdesk.APIKeyStore: a read of the id's pointer, then
// of the key (two strongly consistent reads). A key stored before pointers
// were written has none; it is then looked for among all keys, by a Query
// of the kind index filtered on the id, which is also what an unknown id
// costs.
func (s *Store) APIKey(ctx context.Context, id string) (*helpdesk.APIKey, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(kindKeyID, id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, translate(err, "get api key id %s", id)
	}
	if out.Item == nil {
		return s.apiKeyByScan(ctx, id)
	}
	var ptr keyIDItem
	if err := attributevalue.UnmarshalMap(out.Item, &ptr); err != nil {
		return nil, fmt.Errorf("unmarshal api key id %s: %w", id, err)
	}
	b, err := hex.DecodeString(ptr.Digest)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("api key id %s points to a malformed digest", id)
	}
	return s.APIKeyByHash(ctx, [32]byte(b))
}

// apiKeyByScan finds a key without a pointer among every key.
func (s *Store) apiKeyByScan(ctx context.Context, id string) (*helpdesk.APIKey, error) {
	in := s.kindQuery(kindKey)
	in.FilterExpression = aws.String("#id = :id")
	in.ExpressionAttributeNames["#id"] = "id"
	in.ExpressionAttributeValues[":id"] = str(id)
	items, err := s.queryAll(ctx, in)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errKeyNotFound
	}
	return unmarshalKey(items[0])
}

// CreateAPIKey implements helpdesk.APIKeyStore: one transaction puts the
// key under its digest and the pointer from its id, each on condition that
// its key is free.
func (s *Store) CreateAPIKey(ctx context.Context, k *helpdesk.APIKey) error {
	item, err := marshalKey(k)
	if err != nil {
		return err
	}
	ptr, err := attributevalue.MarshalMap(keyIDItem{PK: kindKeyID + "#" + k.ID, SK: kindKeyID, Digest: hex.EncodeToString(k.Hash[:])})
	if err != nil {
		return fmt.Errorf("marshal api key id %s: %w", k.ID, err)
	}
	free := aws.String("attribute_not_exists(pk)")
	failed, err := s.transact(ctx, "create api key "+k.ID, []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: free,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: ptr, ConditionExpression: free}},
	}, nil)
	switch {
	case err != nil:
		return err
	case failed == nil:
		return nil
	case conditionFailed(failed[0]) && failed[0].Item != nil && sameCreation(failed[0].Item, k.CreatedAt):
		return nil // an earlier attempt of this transaction landed; only its answer was lost
	}
	return errKeyExists
}

// ListAPIKeys implements helpdesk.APIKeyStore with a Query of the kind
// index to its end.
func (s *Store) ListAPIKeys(ctx context.Context) ([]*helpdesk.APIKey, error) {
	items, err := s.queryAll(ctx, s.kindQuery(kindKey))
	if err != nil {
		return nil, err
	}
	return unmarshalKeys(items)
}

func unmarshalKeys(items []map[string]types.AttributeValue) ([]*helpdesk.APIKey, error) {
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

// keysBinding is what a key list cursor is bound to.
const keysBinding = "apikeys/v1"

// keyPosition is the last key of a page: the index and table keys the
// next page's Query starts after. The digest in it is sealed with the
// cursor, never shown.
type keyPosition struct {
	PK      string `json:"p"`
	Created string `json:"c"`
}

// ValidAPIKeys implements helpdesk.APIKeyStore: a Query of the kind index,
// oldest first, filtered to the keys not revoked, reading one key past the
// page (more calls only when revoked keys fill a call's page).
func (s *Store) ValidAPIKeys(ctx context.Context, pageSize int, after string) (*helpdesk.APIKeyPage, error) {
	in := s.kindQuery(kindKey)
	in.FilterExpression = aws.String("attribute_not_exists(revokedAt)")
	if after != "" {
		codec, err := s.cursors(ctx)
		if err != nil {
			return nil, err
		}
		state, err := codec.Open(keysBinding, after)
		var pos keyPosition
		if err != nil || json.Unmarshal(state, &pos) != nil || !strings.HasPrefix(pos.PK, kindKey+"#") || pos.Created == "" {
			return nil, errBadCursor
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			attrPK: str(pos.PK), attrSK: str(kindKey), attrKind: str(kindKey), attrCreated: str(pos.Created),
		}
	}
	items, _, err := s.queryPage(ctx, in, pageSize+1)
	if err != nil {
		return nil, translate(err, "list api keys")
	}
	keys, err := unmarshalKeys(items[:min(len(items), pageSize)])
	if err != nil {
		return nil, err
	}
	page := &helpdesk.APIKeyPage{Keys: keys}
	if len(items) > pageSize {
		last := keys[len(keys)-1]
		codec, err := s.cursors(ctx)
		if err != nil {
			return nil, err
		}
		state, err := json.Marshal(keyPosition{PK: kindKey + "#" + hex.EncodeToString(last.Hash[:]), Created: joinKey(formatTime(last.CreatedAt), last.ID)})
		if err != nil {
			return nil, fmt.Errorf("encode cursor: %w", err)
		}
		page.Next = codec.Seal(keysBinding, state)
	}
	return page, nil
}

// RevokeAPIKey implements helpdesk.APIKeyStore: the key is found by id
// (APIKey), then one UpdateItem sets revokedAt on condition that it is
// not set yet.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	k, err := s.APIKey(ctx, id)
	if err != nil {
		return err
	}
	if k.Revoked() {
		return errKeyNotFound
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: digestKey(k.Hash),
		UpdateExpression:                    aws.String("SET revokedAt = :t"),
		ConditionExpression:                 aws.String("attribute_exists(pk) AND attribute_not_exists(revokedAt)"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":t": str(formatTime(at))},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		if v, ok := ccf.Item["revokedAt"].(*types.AttributeValueMemberS); ok && v.Value == formatTime(at) {
			return nil // an earlier attempt of this update landed; only its answer was lost
		}
		return errKeyNotFound
	case err != nil:
		return translate(err, "revoke api key %s", id)
	}
	return nil
}

// TouchAPIKey implements helpdesk.APIKeyStore with one conditional
// UpdateItem that names only the key attributes and lastUsedAt (the
// stack's IAM for every authenticated function allows no more). A
// condition that fails (a recent use recorded, or no such key) is no
// error.
func (s *Store) TouchAPIKey(ctx context.Context, hash [32]byte, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: digestKey(hash),
		UpdateExpression:         aws.String("SET #u = :now"),
		ConditionExpression:      aws.String("attribute_exists(pk) AND (attribute_not_exists(#u) OR #u < :before)"),
		ExpressionAttributeNames: map[string]string{"#u": "lastUsedAt"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": str(formatTime(at)), ":before": str(formatTime(at.Add(-helpdesk.LastUsedInterval))),
		},
	})
	if err != nil && !isConditionFailed(err) {
		return translate(err, "record api key use")
	}
	return nil
}
