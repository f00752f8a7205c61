package dynamo_test

import (
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/ratelimit"
)

// TestTakeTokens: the counter hands out tokens while the count stays
// within the limit, says what it found when it does not, and keeps each
// window apart. Its item has no index attribute, expires an hour after its
// window, and its stream records (one per granted take; a refused one
// writes nothing) are not ticket records.
func TestTakeTokens(t *testing.T) {
	store, table := dynamotest.NewStore(t)
	ctx := t.Context()
	start := time.Unix(1_800_000_000, 0).Truncate(time.Minute)
	w := ratelimit.Window{Start: start, End: start.Add(time.Minute)}
	for _, step := range []struct {
		n, count int
		taken    bool
	}{{5, 5, true}, {5, 10, true}, {5, 10, false}, {2, 12, true}, {1, 12, false}} {
		count, taken, err := store.TakeTokens(ctx, "key_a", w, step.n, 12)
		if err != nil || count != step.count || taken != step.taken {
			t.Fatalf("take %d: %d, %v, %v; want %d, %v", step.n, count, taken, err, step.count, step.taken)
		}
	}
	next := ratelimit.Window{Start: w.End, End: w.End.Add(time.Minute)}
	if count, taken, err := store.TakeTokens(ctx, "key_a", next, 12, 12); err != nil || count != 12 || !taken {
		t.Fatalf("the next window: %d, %v, %v", count, taken, err)
	}
	if count, taken, err := store.TakeTokens(ctx, "key_b", w, 1, 12); err != nil || count != 1 || !taken {
		t.Fatalf("another key: %d, %v, %v", count, taken, err)
	}

	out, err := dynamotest.Client(t).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: dynamo.RateKeyPrefix + "key_a"},
		"sk": &types.AttributeValueMemberS{Value: strconv.FormatInt(start.Unix(), 10)},
	}})
	if err != nil || out.Item == nil {
		t.Fatalf("the counter item: %v", err)
	}
	if names := slices.Sorted(maps.Keys(out.Item)); !slices.Equal(names, []string{dynamo.Table.TTLAttribute, "pk", "sk", "used"}) {
		t.Errorf("the counter item has attributes %v", names)
	}
	if exp := out.Item[dynamo.Table.TTLAttribute].(*types.AttributeValueMemberN).Value; exp != strconv.FormatInt(w.End.Add(time.Hour).Unix(), 10) {
		t.Errorf("expires at %s, want an hour after the window", exp)
	}
	for _, rec := range dynamotest.ReadStream(t, table, 5) {
		if dynamo.IsTicketKey(rec.Change.Keys) {
			t.Errorf("a counter's stream record passes for a ticket's: %v", rec.Change.Keys)
		}
	}
}
