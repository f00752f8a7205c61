package dynamo_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// TestEventBodiesPacked records an event and reads it back whole, checks
// that the table holds its body deflated and under half its size, and
// that an event stored plain, as before bodies were packed, still reads.
func TestEventBodiesPacked(t *testing.T) {
	s, table := dynamotest.NewStore(t)
	db := dynamotest.Client(t)
	ctx := t.Context()
	body := bytes.Repeat([]byte(`{"type":"ticket.updated","data":{"ticket":{"subject":"Cannot log in"}}}`), 12)
	ev := &helpdesk.StoredEvent{ID: "evt_packed", Type: "ticket.updated", Body: body, CreatedAt: dynamotest.Now().Add(-time.Minute), TicketID: "tkt_packed", Order: "1.0"}
	if _, err := s.RecordEvents(ctx, []*helpdesk.StoredEvent{ev}, nil); err != nil {
		t.Fatal(err)
	}
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "EVENT#evt_packed"}, "sk": &types.AttributeValueMemberS{Value: "EVENT"}}
	raw, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	packed, ok := raw.Item["bodyz"].(*types.AttributeValueMemberB)
	if _, plain := raw.Item["body"]; plain || !ok || len(packed.Value)*2 > len(body) {
		t.Fatalf("stored item %v: want only a deflated body under half of %d bytes", raw.Item, len(body))
	}
	got, err := s.Event(ctx, ev.ID)
	if err != nil || !bytes.Equal(got.Body, body) {
		t.Fatalf("Event: %v, body %q", err, got.Body)
	}

	// An event recorded before bodies were packed.
	raw.Item["body"] = &types.AttributeValueMemberB{Value: []byte(`{"old":true}`)}
	delete(raw.Item, "bodyz")
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: raw.Item}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Event(ctx, ev.ID); err != nil || string(got.Body) != `{"old":true}` {
		t.Fatalf("Event of a plain item: %v, body %q", err, got.Body)
	}
	s.SetClock(func() time.Time { return time.Now().Add(time.Minute) }) // past the feed's settle window
	page, err := s.ListEvents(ctx, helpdesk.EventQuery{PageSize: 10})
	if err != nil || len(page.Events) != 1 || string(page.Events[0].Body) != `{"old":true}` {
		t.Fatalf("ListEvents of a plain item: %v, %+v", err, page)
	}
}
