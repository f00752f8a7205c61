package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

func TestCreateListRevoke(t *testing.T) {
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	dynamotest.CommandEnv(t, table)
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"create", "-name", "zapier", "-permission", "write", "-rate-limit", "600"}, &out); err != nil {
		t.Fatal(err)
	}
	var id, key string
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "id:" {
			id = f[1]
		} else if len(f) == 2 && f[0] == "key:" {
			key = f[1]
		}
	}
	hash, ok := auth.Digest(key)
	if id == "" || !ok {
		t.Fatalf("create printed %q", out.String())
	}
	stored, err := dynamo.New(dynamotest.Client(t), table, nil).APIKeyByHash(ctx, hash)
	if err != nil || stored.ID != id || stored.Permission != "write" || stored.RateLimit != 600 {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	out.Reset()
	if err := run(ctx, []string{"list"}, &out); err != nil || !strings.Contains(out.String(), id) || strings.Contains(out.String(), key) {
		t.Fatalf("list: %v\n%s", err, out.String())
	}
	if err := run(ctx, []string{"revoke", id}, &out); err != nil {
		t.Fatal(err)
	}
	if k, _ := dynamo.New(dynamotest.Client(t), table, nil).APIKeyByHash(ctx, hash); !k.Revoked() {
		t.Fatal("revoke did not revoke")
	}
	if err := run(ctx, []string{"revoke", id}, &out); err == nil {
		t.Fatal("a second revoke of the same key succeeded")
	}
	out.Reset()
	if err := run(ctx, []string{"list"}, &out); err != nil || !strings.Contains(out.String(), id) || !strings.Contains(out.String(), "600/min") {
		t.Fatalf("list after revoke: %v\n%s", err, out.String())
	}
	for _, bad := range [][]string{{}, {"create", "-permission", "root", "-name", "x"}, {"create", "-name", " "}, {"create", "-name", "x", "-rate-limit", "1000001"}, {"revoke"}, {"rotate"}} {
		if err := run(ctx, bad, &out); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
