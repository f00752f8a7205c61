package dynamo_test

import (
	"testing"

	"github.com/acme/helpdesk/internal/dynamotest"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }
