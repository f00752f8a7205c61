package ddblocal_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/acme/helpdesk/internal/ddblocal"
)

// start starts a server and registers its Stop as a cleanup that must
// succeed.
func start(t *testing.T, opts ddblocal.Options) *ddblocal.Server {
	t.Helper()
	began := time.Now()
	srv, err := ddblocal.Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("DynamoDB Local ready at %s in %s", srv.Endpoint(), time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return srv
}

func newClient(t *testing.T, endpoint string) *dynamodb.Client {
	t.Helper()
	c, err := ddblocal.NewClient(t.Context(), endpoint)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// createTable creates a table keyed by the string attribute "pk".
func createTable(ctx context.Context, t *testing.T, c *dynamodb.Client, name string, stream *types.StreamSpecification) *types.TableDescription {
	t.Helper()
	out, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  stream,
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	return out.TableDescription
}

func putItem(ctx context.Context, t *testing.T, c *dynamodb.Client, table, pk, body string) {
	t.Helper()
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item: map[string]types.AttributeValue{
			"pk":   &types.AttributeValueMemberS{Value: pk},
			"body": &types.AttributeValueMemberS{Value: body},
		},
	})
	if err != nil {
		t.Fatalf("PutItem: %v", err)
	}
}

func TestInMemoryWithStream(t *testing.T) {
	t.Parallel()
	srv := start(t, ddblocal.Options{})
	if !strings.HasPrefix(srv.Endpoint(), "http://127.0.0.1:") {
		t.Errorf("Endpoint() = %q, want http://127.0.0.1:PORT", srv.Endpoint())
	}
	ctx := t.Context()
	db := newClient(t, srv.Endpoint())
	streams, err := ddblocal.NewStreamsClient(ctx, srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}

	desc := createTable(ctx, t, db, "tickets", &types.StreamSpecification{
		StreamEnabled:  aws.Bool(true),
		StreamViewType: types.StreamViewTypeNewAndOldImages,
	})
	if desc.LatestStreamArn == nil {
		t.Fatal("CreateTable returned no LatestStreamArn")
	}
	putItem(ctx, t, db, "tickets", "tkt_1", "printer on fire")

	stream, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: desc.LatestStreamArn})
	if err != nil {
		t.Fatalf("DescribeStream: %v", err)
	}
	shards := stream.StreamDescription.Shards
	if len(shards) == 0 {
		t.Fatal("stream has no shards")
	}
	it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
		StreamArn:         desc.LatestStreamArn,
		ShardId:           shards[0].ShardId,
		ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}

	iter := it.ShardIterator
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		if len(recs.Records) > 0 {
			r := recs.Records[0]
			if r.EventName != streamtypes.OperationTypeInsert {
				t.Errorf("EventName = %q, want INSERT", r.EventName)
			}
			body, _ := r.Dynamodb.NewImage["body"].(*streamtypes.AttributeValueMemberS)
			if body == nil || body.Value != "printer on fire" {
				t.Errorf("NewImage = %#v, want body \"printer on fire\"", r.Dynamodb.NewImage)
			}
			if r.Dynamodb.OldImage != nil {
				t.Errorf("OldImage = %#v, want none for an insert", r.Dynamodb.OldImage)
			}
			break
		}
		if recs.NextShardIterator == nil || time.Now().After(deadline) {
			t.Fatal("no stream record for the PutItem")
		}
		iter = recs.NextShardIterator
		time.Sleep(50 * time.Millisecond)
	}

	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-srv.Done():
	default:
		t.Error("Done() not closed after Stop")
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	// The port is closed once Stop returns.
	callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := db.ListTables(callCtx, &dynamodb.ListTablesInput{}); err == nil {
		t.Error("ListTables succeeded after Stop")
	}
}

func TestDBPathSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	srv := start(t, ddblocal.Options{DBPath: dir})
	ctx := t.Context()
	db := newClient(t, srv.Endpoint())
	createTable(ctx, t, db, "kept", nil)
	putItem(ctx, t, db, "kept", "k1", "still here")
	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}

	srv = start(t, ddblocal.Options{DBPath: dir})
	db = newClient(t, srv.Endpoint())
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String("kept"),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k1"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem after restart: %v", err)
	}
	body, _ := got.Item["body"].(*types.AttributeValueMemberS)
	if body == nil || body.Value != "still here" {
		t.Errorf("item after restart = %#v, want body \"still here\"", got.Item)
	}
}

func TestFindJarMissing(t *testing.T) {
	t.Setenv("DYNAMODB_LOCAL_DIR", t.TempDir())
	_, err := ddblocal.FindJar("")
	if err == nil || !strings.Contains(err.Error(), "run `make dynamodb-local`") {
		t.Errorf("FindJar in an empty folder: err = %v, want one that says to run `make dynamodb-local`", err)
	}
}

func TestFindJarDefault(t *testing.T) {
	jar, err := ddblocal.FindJar("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(jar, "/DynamoDBLocal.jar") {
		t.Errorf("FindJar = %q, want a path to DynamoDBLocal.jar", jar)
	}
}

func TestStartReportsEarlyExit(t *testing.T) {
	// A jar that is not a jar makes java exit at once.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "DynamoDBLocal.jar"), []byte("not a jar"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "DynamoDBLocal_lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	srv, err := ddblocal.Start(t.Context(), ddblocal.Options{JarDir: dir})
	if err == nil {
		_ = srv.Stop()
		t.Fatal("Start succeeded with a broken jar")
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("Start took %s to notice java exit", took)
	}
	if !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "java output:") {
		t.Errorf("Start error = %v, want the exit and java's output", err)
	}
	t.Log(err)
}

func TestClientRejectsBadEndpoint(t *testing.T) {
	for _, ep := range []string{"", "127.0.0.1:8000", "ftp://x"} {
		if _, err := ddblocal.NewClient(t.Context(), ep); err == nil {
			t.Errorf("NewClient(%q) succeeded", ep)
		}
		if _, err := ddblocal.NewStreamsClient(t.Context(), ep); err == nil {
			t.Errorf("NewStreamsClient(%q) succeeded", ep)
		}
	}
}
