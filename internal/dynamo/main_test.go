package dynamo_test

import (
	"bytes"
	"testing"

	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// newStore returns a store on a fresh table of the shared design.
func newStore(tb testing.TB) (*dynamo.Store, string) {
	tb.Helper()
	table := dynamotest.NewTable(tb, dynamo.Table.CreateTableInput)
	codec, err := cursor.New(bytes.Repeat([]byte{42}, cursor.KeySize))
	if err != nil {
		tb.Fatal(err)
	}
	return dynamo.New(dynamotest.Client(tb), table, codec), table
}
