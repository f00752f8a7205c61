package auth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// touching counts the use records that reach the real store.
type touching struct {
	helpdesk.APIKeyStore
	touches atomic.Int32
}

func (c *touching) TouchAPIKey(ctx context.Context, hash [32]byte, at time.Time) error {
	c.touches.Add(1)
	return c.APIKeyStore.TouchAPIKey(ctx, hash, at)
}

// TestAuthenticateRecordsLastUse: a process writes a key's use at most
// once a minute, and the stored time changes at most once a minute even
// when two processes use the key.
func TestAuthenticateRecordsLastUse(t *testing.T) {
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	db := dynamo.New(dynamotest.Client(t), table, nil)
	ctx := context.Background()
	key, hash, id := auth.NewKey()
	start := dynamotest.Now()
	if err := db.CreateAPIKey(ctx, &helpdesk.APIKey{ID: id, Name: "t", Permission: helpdesk.PermRead, Hash: hash, CreatedAt: start}); err != nil {
		t.Fatal(err)
	}
	now := start
	clock := func() time.Time { return now }
	one, two := &touching{APIKeyStore: db}, &touching{APIKeyStore: db}
	a, b := auth.NewAuthenticator(one), auth.NewAuthenticator(two)
	a.SetClock(clock)
	b.SetClock(clock)
	use := func(x *auth.Authenticator) {
		t.Helper()
		if _, err := x.Authenticate(ctx, "Bearer "+key); err != nil {
			t.Fatal(err)
		}
	}
	stored := func() time.Time {
		t.Helper()
		k, err := db.APIKeyByHash(ctx, hash)
		if err != nil {
			t.Fatal(err)
		}
		return k.LastUsedAt
	}
	steps := []struct {
		name         string
		advance      time.Duration
		by           *auth.Authenticator
		touchesA     int32
		touchesB     int32
		wantLastUsed time.Duration // after start
	}{
		{"FirstUse", 0, a, 1, 0, 0},
		{"AgainAtOnce", 0, a, 1, 0, 0},
		{"WithinTheMinute", 30 * time.Second, a, 1, 0, 0},
		// Another process writes once, but the stored time is recent.
		{"OtherProcess", 0, b, 1, 1, 0},
		{"OtherProcessAgain", 10 * time.Second, b, 1, 1, 0},
		// A minute after its last write (and past the cache window) the
		// process writes again, and the stored time moves.
		{"AMinuteOn", 30 * time.Second, a, 2, 1, 70 * time.Second},
		// The other process writes a minute after its own write, but the
		// stored time is less than a minute old: it stays.
		{"OtherProcessAMinuteOn", 20 * time.Second, b, 2, 2, 70 * time.Second},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		use(st.by)
		if one.touches.Load() != st.touchesA || two.touches.Load() != st.touchesB {
			t.Fatalf("%s: %d and %d writes, want %d and %d", st.name, one.touches.Load(), two.touches.Load(), st.touchesA, st.touchesB)
		}
		if got, want := stored(), start.Add(st.wantLastUsed); !got.Equal(want) {
			t.Fatalf("%s: lastUsedAt %v, want %v", st.name, got, want)
		}
	}
}

// failingTouch fails every use record, as a throttled table would.
type failingTouch struct{ helpdesk.APIKeyStore }

func (failingTouch) TouchAPIKey(context.Context, [32]byte, time.Time) error {
	return errors.New("throttled")
}

// TestLastUseFailureDoesNotFailRequests: a use that cannot be recorded is
// logged, without key material, and the request goes on.
func TestLastUseFailureDoesNotFailRequests(t *testing.T) {
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	db := dynamo.New(dynamotest.Client(t), table, nil)
	key, hash, id := auth.NewKey()
	if err := db.CreateAPIKey(context.Background(), &helpdesk.APIKey{ID: id, Name: "t", Permission: helpdesk.PermRead, Hash: hash, CreatedAt: dynamotest.Now()}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a := auth.NewAuthenticator(failingTouch{db})
	a.SetLogger(slog.New(slog.NewJSONHandler(&logs, nil)))
	if caller, err := a.Authenticate(context.Background(), "Bearer "+key); err != nil || caller.KeyID != id {
		t.Fatalf("Authenticate = %+v, %v", caller, err)
	}
	if out := logs.String(); !strings.Contains(out, id) || !strings.Contains(out, "throttled") || strings.Contains(out, key) || strings.Contains(out, fmt.Sprintf("%x", hash)) {
		t.Fatalf("log %s", out)
	}
}
