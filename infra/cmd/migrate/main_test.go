package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// TestRun migrates a table through the command as an operator would, then
// runs it again, which finds every segment finished.
func TestRun(t *testing.T) {
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	dynamotest.CommandEnv(t, table)
	s := dynamotest.StoreOn(t, dynamotest.Client(t), table)
	subject := "migrate me"
	if _, err := helpdesk.NewService(s, s).CreateTicket(t.Context(), &helpdesk.TicketPatch{Subject: &subject}, nil, nil); err != nil {
		t.Fatal(err)
	}
	var out, logs bytes.Buffer
	if err := run(t.Context(), []string{"-rate", "50", "-segments", "2"}, &out, &logs); err != nil {
		t.Fatalf("run: %v\n%s", err, logs.String())
	}
	if !strings.Contains(out.String(), "1 tickets: 0 rewritten") || !strings.Contains(logs.String(), `"segment_done":true`) {
		t.Errorf("first run printed %q, logged %q", out.String(), logs.String())
	}
	out.Reset()
	if err := run(t.Context(), []string{"-segments", "2"}, &out, &logs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "0 segments resumed, 2 already finished") {
		t.Errorf("second run printed %q", out.String())
	}
	for _, args := range [][]string{{"-rate", "0"}, {"extra"}, {"-segments", "-1"}} {
		if err := run(t.Context(), args, &out, &logs); err == nil {
			t.Errorf("run %q: no error", args)
		}
	}
}
