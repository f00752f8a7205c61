package dynamotest_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/acme/helpdesk/internal/dynamotest"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// validName matches a legal DynamoDB table name.
var validName = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// keyed returns a create function for a table keyed by the string "pk".
func keyed(stream *types.StreamSpecification) func(string) *dynamodb.CreateTableInput {
	return func(name string) *dynamodb.CreateTableInput {
		return &dynamodb.CreateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
			StreamSpecification:  stream,
		}
	}
}

func TestEndpoint(t *testing.T) {
	if ep := dynamotest.Endpoint(t); !strings.HasPrefix(ep, "http://127.0.0.1:") {
		t.Errorf("Endpoint = %q", ep)
	}
}

func TestNewTableLifecycle(t *testing.T) {
	c := dynamotest.Client(t)
	var name string
	t.Run("odd name/with spaces #1 ü", func(t *testing.T) {
		name = dynamotest.NewTable(t, keyed(nil))
		if !validName.MatchString(name) {
			t.Errorf("table name %q is not a valid DynamoDB table name", name)
		}
		out, err := c.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Table.TableStatus != types.TableStatusActive {
			t.Errorf("status = %s, want ACTIVE", out.Table.TableStatus)
		}
		_, err = c.PutItem(t.Context(), &dynamodb.PutItemInput{
			TableName: aws.String(name),
			Item:      map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}},
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	if name == "" {
		t.FailNow()
	}
	_, err := c.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("DescribeTable after the subtest: err = %v, want ResourceNotFoundException (cleanup should have deleted %s)", err, name)
	}
}

func TestNewTableNames(t *testing.T) {
	t.Run(strings.Repeat("long", 100), func(t *testing.T) {
		name := dynamotest.NewTable(t, keyed(nil))
		if !validName.MatchString(name) {
			t.Errorf("table name %q (%d chars) is not a valid DynamoDB table name", name, len(name))
		}
	})
	t.Run("fills in TableName", func(t *testing.T) {
		name := dynamotest.NewTable(t, func(string) *dynamodb.CreateTableInput {
			in := keyed(nil)("")
			in.TableName = nil
			return in
		})
		if _, err := dynamotest.Client(t).DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}); err != nil {
			t.Error(err)
		}
	})
}

func TestParallelTablesAreDistinct(t *testing.T) {
	names := make(chan string, 4)
	t.Run("group", func(t *testing.T) {
		for range 4 {
			t.Run("same", func(t *testing.T) {
				t.Parallel()
				names <- dynamotest.NewTable(t, keyed(nil))
			})
		}
	})
	close(names)
	seen := map[string]bool{}
	for n := range names {
		if seen[n] {
			t.Errorf("table name %s handed out twice", n)
		}
		seen[n] = true
	}
	if len(seen) != 4 {
		t.Errorf("got %d tables, want 4", len(seen))
	}
}

func TestStreamsClient(t *testing.T) {
	name := dynamotest.NewTable(t, keyed(&types.StreamSpecification{
		StreamEnabled:  aws.Bool(true),
		StreamViewType: types.StreamViewTypeNewAndOldImages,
	}))
	out, err := dynamotest.StreamsClient(t).ListStreams(t.Context(), &dynamodbstreams.ListStreamsInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Streams) != 1 {
		t.Errorf("ListStreams for %s: %d streams, want 1", name, len(out.Streams))
	}
}
