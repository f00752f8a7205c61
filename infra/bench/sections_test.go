package bench

import (
	"slices"
	"testing"

	"github.com/acme/helpdesk/infra/e2e"
)

// TestNoDynamoDBNamesFunctions keeps the classification of the cold-start
// targets from going stale when a function is renamed or removed: every
// entry of noDynamoDB is a function, and it is a strict subset of them.
func TestNoDynamoDBNamesFunctions(t *testing.T) {
	for fn := range noDynamoDB {
		if !slices.Contains(e2e.Functions, fn) {
			t.Errorf("noDynamoDB names %q, which is not a function (%v)", fn, e2e.Functions)
		}
	}
	if len(noDynamoDB) >= len(e2e.Functions) {
		t.Errorf("noDynamoDB holds every function")
	}
	for _, fn := range e2e.Functions {
		if noDynamoDBRows.has("fn="+fn) == dynamoDBRows.has("fn="+fn) {
			t.Errorf("function %s has both cold-start targets or neither", fn)
		}
	}
}
