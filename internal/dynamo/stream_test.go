package dynamo_test

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/acme/helpdesk/internal/dynamo"
)

// TestTicketFromImageCaseTwins: attribute names that differ only in case
// would fill one field in map order, so such an image is refused rather
// than decoded one way or the other.
func TestTicketFromImageCaseTwins(t *testing.T) {
	s := events.NewStringAttribute
	image := func(extra map[string]events.DynamoDBAttributeValue) map[string]events.DynamoDBAttributeValue {
		img := map[string]events.DynamoDBAttributeValue{
			"pk": s("TICKET#tkt_a"), "sk": s("TICKET"), "id": s("tkt_a"), "subject": s("x"), "status": s("new"),
			"createdAt": s("2026-01-01T00:00:00.000Z"), "updatedAt": s("2026-01-01T00:00:00.000Z"),
		}
		for k, v := range extra {
			img[k] = v
		}
		return img
	}
	value := func(names ...string) events.DynamoDBAttributeValue {
		m := map[string]events.DynamoDBAttributeValue{}
		for _, n := range names {
			m[n] = s(n)
		}
		return events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewMapAttribute(m)})
	}
	cases := []struct {
		name  string
		image map[string]events.DynamoDBAttributeValue
		ok    bool
	}{
		{"Plain", image(map[string]events.DynamoDBAttributeValue{"customFields": value("id", "value")}), true},
		{"TopLevel", image(map[string]events.DynamoDBAttributeValue{"Id": s("tkt_b")}), false},
		{"UnicodeFold", image(map[string]events.DynamoDBAttributeValue{"ſubject": s("y")}), false},
		{"Nested", image(map[string]events.DynamoDBAttributeValue{"customFields": value("id", "ID", "value")}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 { // map order varies; the answer must not
				tk, ok, err := dynamo.TicketFromImage(tc.image)
				if tc.ok && (err != nil || !ok || tk.Subject != "x") {
					t.Fatalf("TicketFromImage = %+v, %v, %v", tk, ok, err)
				}
				if !tc.ok && err == nil {
					t.Fatalf("TicketFromImage = %+v, %v, want an error", tk, ok)
				}
			}
		})
	}
}
