package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/ratelimit"
)

// RateKeyPrefix starts the partition key of every rate limit counter:
// RATE#<key id>, with the window's start (Unix seconds) as the sort key.
// The items carry no index attribute, so no index sees them, and the
// stack's stream filter passes only ticket keys, so the dispatch function
// is never invoked for them.
const RateKeyPrefix = "RATE#"

// counterAfterWindow is how long a counter outlives its window before
// DynamoDB may expire it: long enough for whoever reads the table to see
// the last windows, short enough that keys' counters do not pile up.
const counterAfterWindow = time.Hour

var _ ratelimit.Counter = (*Store)(nil)

// TakeTokens implements ratelimit.Counter with one conditional UpdateItem
// of the window's counter item: ADD n unless the count would pass limit.
// A failed condition costs a write unit too, and returns the count it
// found.
func (s *Store) TakeTokens(ctx context.Context, key string, w ratelimit.Window, n, limit int) (int, bool, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key: map[string]types.AttributeValue{
			attrPK: str(RateKeyPrefix + key),
			attrSK: str(strconv.FormatInt(w.Start.Unix(), 10)),
		},
		UpdateExpression:         aws.String("ADD used :n SET #exp = :exp"),
		ConditionExpression:      aws.String("attribute_not_exists(used) OR used <= :most"),
		ExpressionAttributeNames: map[string]string{"#exp": Table.TTLAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n":    number(int64(n)),
			":most": number(int64(limit - n)),
			":exp":  number(w.End.Add(counterAfterWindow).Unix()),
		},
		ReturnValues:                        types.ReturnValueUpdatedNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		used, err := usedOf(out.Attributes)
		return used, true, err
	case errors.As(err, &ccf):
		used, err := usedOf(ccf.Item)
		return used, false, err
	}
	return 0, false, translate(err, "take %d rate limit tokens", n)
}

// usedOf reads the count of a counter item.
func usedOf(item map[string]types.AttributeValue) (int, error) {
	v, ok := item["used"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, errors.New("rate limit counter without a count")
	}
	used, err := strconv.Atoi(v.Value)
	if err != nil {
		return 0, fmt.Errorf("rate limit counter: %w", err)
	}
	return used, nil
}
