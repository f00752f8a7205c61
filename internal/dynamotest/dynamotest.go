package dynamotest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/acme/helpdesk/internal/ddblocal"
)

// startTimeout bounds Main's wait for DynamoDB Local; ddblocal.Start has its
// own, shorter limit.
const startTimeout = time.Minute

// tableTimeout bounds creating and deleting a table.
const tableTimeout = 30 * time.Second

// The package's server, set by Main before the tests run.
var (
	endpoint string

	clientOnce    sync.Once
	client        *dynamodb.Client
	clientErr     error
	streamsOnce   sync.Once
	streamsClient *dynamodbstreams.Client
	streamsErr    error
)

// Main runs a package's tests against a fresh in-memory DynamoDB Local and
// exits with their result. Call it from TestMain and do nothing after it:
//
//	func TestMain(m *testing.M) { dynamotest.Main(m) }
//
// If DynamoDB Local cannot be started (not installed, no java, ...) Main
// prints why on stderr and exits with status 1 without running any test. If
// the server has died by the time the tests end, Main reports that and
// exits with status 1 as well.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	srv, err := ddblocal.Start(ctx, ddblocal.Options{})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: dynamotest: cannot start DynamoDB Local, so no test ran: %v\n", err)
		return 1
	}
	endpoint = srv.Endpoint()

	code := m.Run()

	if err := stopFiles(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: dynamotest: %v\n", err)
		code = max(code, 1)
	}
	if err := srv.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: dynamotest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Endpoint returns the URL of the package's DynamoDB Local.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	if endpoint == "" {
		tb.Fatal("dynamotest: no DynamoDB Local is running; call dynamotest.Main(m) from the package's TestMain")
	}
	return endpoint
}

// Client returns a DynamoDB client for the package's DynamoDB Local. All
// tests share it.
func Client(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	ep := Endpoint(tb)
	clientOnce.Do(func() { client, clientErr = ddblocal.NewClient(context.Background(), ep) })
	if clientErr != nil {
		tb.Fatal(clientErr)
	}
	return client
}

// StreamsClient returns a DynamoDB Streams client for the package's
// DynamoDB Local. All tests share it.
func StreamsClient(tb testing.TB) *dynamodbstreams.Client {
	tb.Helper()
	ep := Endpoint(tb)
	streamsOnce.Do(func() { streamsClient, streamsErr = ddblocal.NewStreamsClient(context.Background(), ep) })
	if streamsErr != nil {
		tb.Fatal(streamsErr)
	}
	return streamsClient
}

// NewTable creates a table for this test and returns its name, once the
// table is ACTIVE. The name is unique: "t", the test's name with characters
// a table name cannot hold replaced by "_" (shortened if long), "-" and a
// random suffix. create returns the CreateTableInput for that name; if its
// TableName is nil NewTable fills it in. The table is deleted when the test
// and its subtests have finished.
func NewTable(tb testing.TB, create func(name string) *dynamodb.CreateTableInput) string {
	tb.Helper()
	c := Client(tb)
	name := tableName(tb.Name())

	in := create(name)
	if in == nil {
		tb.Fatal("dynamotest: NewTable: create returned nil")
	}
	if in.TableName == nil {
		in.TableName = aws.String(name)
	} else if *in.TableName != name {
		tb.Fatalf("dynamotest: NewTable: create set TableName %q, want the name it was given, %q", *in.TableName, name)
	}

	ctx, cancel := context.WithTimeout(tb.Context(), tableTimeout)
	defer cancel()
	if _, err := c.CreateTable(ctx, in); err != nil {
		tb.Fatalf("dynamotest: creating table %s: %v", name, err)
	}
	// Registered before waiting, so that a table that never becomes ACTIVE
	// is still deleted.
	tb.Cleanup(func() { deleteTable(tb, c, name) })

	waiter := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 20 * time.Millisecond
		o.MaxDelay = 500 * time.Millisecond
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, tableTimeout); err != nil {
		tb.Fatalf("dynamotest: waiting for table %s to be ACTIVE: %v", name, err)
	}
	return name
}

// deleteTable deletes a test's table. The test's context is over by the
// time cleanups run, so it uses its own.
func deleteTable(tb testing.TB, c *dynamodb.Client, name string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), tableTimeout)
	defer cancel()
	_, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	var notFound *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &notFound) {
		tb.Errorf("dynamotest: deleting table %s: %v", name, err)
	}
}

// maxNameLen is the longest DynamoDB table name.
const maxNameLen = 255

// tableName returns a fresh table name for the test named testName. Table
// names are 3 to 255 characters from [A-Za-z0-9_.-].
func tableName(testName string) string {
	suffix := fmt.Sprintf("-%016x", rand.Uint64())
	var b strings.Builder
	b.WriteByte('t')
	for _, r := range testName {
		if b.Len() >= maxNameLen-len(suffix) {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	b.WriteString(suffix)
	return b.String()
}
