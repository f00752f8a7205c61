package auth_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// counting counts the lookups that reach the real store.
type counting struct {
	helpdesk.APIKeyStore
	lookups atomic.Int32
}

func (c *counting) APIKeyByHash(ctx context.Context, hash [32]byte) (*helpdesk.APIKey, error) {
	c.lookups.Add(1)
	return c.APIKeyStore.APIKeyByHash(ctx, hash)
}

func TestKeyShape(t *testing.T) {
	key, hash, id := auth.NewKey()
	if !strings.HasPrefix(key, auth.Prefix) || len(key) != 46 || !strings.HasPrefix(id, "key_") {
		t.Fatalf("key %q id %q", key, id)
	}
	got, ok := auth.Digest(key)
	if !ok || got != hash {
		t.Fatal("Digest does not match NewKey's digest")
	}
	for _, bad := range []string{"", key[:45], key + "A", "xx" + key[2:], strings.Replace(key, key[10:11], "*", 1)} {
		if _, ok := auth.Digest(bad); ok {
			t.Errorf("Digest accepted %q", bad)
		}
	}
	other, _, _ := auth.NewKey()
	if other == key {
		t.Fatal("two keys are equal")
	}
}

func TestAuthenticateCachesAndRevocationTakesEffect(t *testing.T) {
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	store := &counting{APIKeyStore: dynamo.New(dynamotest.Client(t), table, nil)}
	ctx := context.Background()
	key, hash, id := auth.NewKey()
	if err := store.CreateAPIKey(ctx, &helpdesk.APIKey{ID: id, Name: "t", Permission: helpdesk.PermWrite, Hash: hash, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a := auth.NewAuthenticator(store)
	a.SetClock(func() time.Time { return now })

	for range 3 {
		caller, err := a.Authenticate(ctx, "Bearer "+key)
		if err != nil || caller.Permission != helpdesk.PermWrite || caller.KeyID != id {
			t.Fatalf("Authenticate = %+v, %v; want %s with key %s", caller, err, helpdesk.PermWrite, id)
		}
	}
	if n := store.lookups.Load(); n != 1 {
		t.Fatalf("%d lookups for three requests, want 1", n)
	}
	if err := store.RevokeAPIKey(ctx, id, now); err != nil {
		t.Fatal(err)
	}
	now = now.Add(auth.CacheTTL - time.Second)
	if _, err := a.Authenticate(ctx, "Bearer "+key); err != nil {
		t.Fatalf("within the cache window the key should still work: %v", err)
	}
	now = now.Add(2 * time.Second)
	if _, err := a.Authenticate(ctx, "Bearer "+key); helpdesk.ErrorCode(err) != helpdesk.CodeUnauthorized {
		t.Fatalf("a revoked key still works after the cache window: %v", err)
	}
	before := store.lookups.Load()
	for _, header := range []string{"", "Bearer", "Bearer hd_x", "Token " + key, "Bearer  " + key + " extra"} {
		if _, err := a.Authenticate(ctx, header); helpdesk.ErrorCode(err) != helpdesk.CodeUnauthorized {
			t.Errorf("%q: %v", header, err)
		}
	}
	if store.lookups.Load() != before {
		t.Fatal("malformed headers reached the store")
	}
}
