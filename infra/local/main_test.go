package local_test

import (
	"testing"

	"github.com/acme/helpdesk/internal/dynamotest"
)

// TestMain gives the tests that take the stack apart a DynamoDB Local of
// their own; the tests of the whole stack start theirs through Run.
func TestMain(m *testing.M) { dynamotest.Main(m) }
