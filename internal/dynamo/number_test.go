package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// TestNumberValues: number custom field values are stored as N attributes
// and read back exactly, at DynamoDB's bounds too; values written as
// float64s before (a float's spelling) still read, as the number they
// are.
func TestNumberValues(t *testing.T) {
	s, table := dynamotest.NewStore(t)
	ctx := context.Background()
	tk := sampleTicket("tkt_numbers", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	numbers := []helpdesk.Number{"12345678901234567890123", "12345678901234567890123456789012345678",
		"-1.5e-100", "9.9999999999999999999999999999999999999e+125", "1e-130", "0.1", "0"}
	tk.CustomFields = nil
	for i, n := range numbers {
		tk.CustomFields = append(tk.CustomFields, helpdesk.CustomFieldValue{ID: "cf_" + string(rune('a'+i)), Value: n})
	}
	mustCreate(t, s, tk)
	got, err := s.Ticket(ctx, "tkt_numbers")
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range numbers {
		if v := got.CustomFields[i].Value; v != n {
			t.Errorf("value %s read back as %#v", n, v)
		}
	}
	item, err := dynamotest.Client(t).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "TICKET#tkt_numbers"}, "sk": &types.AttributeValueMemberS{Value: "TICKET"}}})
	if err != nil {
		t.Fatal(err)
	}
	first := item.Item["customFields"].(*types.AttributeValueMemberL).Value[0].(*types.AttributeValueMemberM).Value["value"]
	if _, ok := first.(*types.AttributeValueMemberN); !ok {
		t.Fatalf("stored as %T, want an N attribute", first)
	}

	// As attributevalue wrote a float64 before values were Numbers.
	_, err = dynamotest.Client(t).UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "TICKET#tkt_numbers"}, "sk": &types.AttributeValueMemberS{Value: "TICKET"}},
		UpdateExpression:          aws.String("SET customFields[0].#v = :f"),
		ExpressionAttributeNames:  map[string]string{"#v": "value"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":f": &types.AttributeValueMemberN{Value: "1.2345678901234568e+22"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err = s.Ticket(ctx, "tkt_numbers")
	if err != nil {
		t.Fatal(err)
	}
	if v := got.CustomFields[0].Value; v != helpdesk.Number("12345678901234568000000") {
		t.Errorf("a float64's value read back as %#v", v)
	}
}
