package dynamo_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// newKey stores a key created at the given time.
func newKey(tb testing.TB, s helpdesk.APIKeyStore, perm helpdesk.Permission, at time.Time) *helpdesk.APIKey {
	tb.Helper()
	_, hash, id := auth.NewKey()
	k := &helpdesk.APIKey{ID: id, Name: "k " + id, Permission: perm, Hash: hash, CreatedAt: at}
	if err := s.CreateAPIKey(context.Background(), k); err != nil {
		tb.Fatal(err)
	}
	return k
}

func TestAPIKeyByIDAndRevocation(t *testing.T) {
	s, table := dynamotest.NewStore(t)
	ctx := context.Background()
	at := dynamotest.Now()
	k := newKey(t, s, helpdesk.PermAdmin, at)

	got, err := s.APIKey(ctx, k.ID)
	if err != nil || got.ID != k.ID || got.Hash != k.Hash || got.Name != k.Name || !got.CreatedAt.Equal(at) {
		t.Fatalf("APIKey = %+v, %v", got, err)
	}
	_, err = s.APIKey(ctx, "key_unknown")
	wantCode(t, err, helpdesk.CodeNotFound)
	wantCode(t, s.CreateAPIKey(ctx, &helpdesk.APIKey{ID: "key_other", Name: "x", Permission: helpdesk.PermRead, Hash: k.Hash, CreatedAt: at.Add(time.Second)}), helpdesk.CodeConflict)

	// A key stored before ids had pointers is found among all keys.
	legacy := newKey(t, s, helpdesk.PermRead, at)
	if _, err := dynamotest.Client(t).DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "KEYID#" + legacy.ID}, "sk": &types.AttributeValueMemberS{Value: "KEYID"},
	}}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.APIKey(ctx, legacy.ID); err != nil || got.Hash != legacy.Hash {
		t.Fatalf("legacy APIKey = %+v, %v", got, err)
	}

	revokedAt := at.Add(time.Minute)
	for _, id := range []string{k.ID, legacy.ID} {
		if err := s.RevokeAPIKey(ctx, id, revokedAt); err != nil {
			t.Fatalf("revoke %s: %v", id, err)
		}
		wantCode(t, s.RevokeAPIKey(ctx, id, revokedAt.Add(time.Second)), helpdesk.CodeNotFound)
		got, err := s.APIKey(ctx, id)
		if err != nil || !got.RevokedAt.Equal(revokedAt) {
			t.Fatalf("revoked key %+v, %v", got, err)
		}
	}
	wantCode(t, s.RevokeAPIKey(ctx, "key_unknown", revokedAt), helpdesk.CodeNotFound)
}

func TestValidAPIKeysPages(t *testing.T) {
	s, _ := dynamotest.NewStore(t)
	ctx := context.Background()
	base := dynamotest.Now()
	var valid []string
	for i := range 7 {
		k := newKey(t, s, helpdesk.PermRead, base.Add(time.Duration(i)*time.Second))
		if i%3 == 1 {
			if err := s.RevokeAPIKey(ctx, k.ID, base); err != nil {
				t.Fatal(err)
			}
			continue
		}
		valid = append(valid, k.ID)
	}
	for _, size := range []int{1, 2, 5, 100} {
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > len(valid) {
				t.Fatalf("page size %d: more pages than keys", size)
			}
			page, err := s.ValidAPIKeys(ctx, size, after)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Keys) > size {
				t.Fatalf("page of %d for size %d", len(page.Keys), size)
			}
			for _, k := range page.Keys {
				got = append(got, k.ID)
			}
			if after = page.Next; after == "" {
				break
			}
		}
		if !slices.Equal(got, valid) {
			t.Fatalf("page size %d: listed %v, want the valid keys oldest first %v", size, got, valid)
		}
	}
	_, err := s.ValidAPIKeys(ctx, 2, "not-a-cursor")
	wantCode(t, err, helpdesk.CodeBadRequest)
	all, err := s.ListAPIKeys(ctx)
	if err != nil || len(all) != 7 {
		t.Fatalf("ListAPIKeys: %d keys, %v; want all 7, revoked too", len(all), err)
	}
}

func TestTouchAPIKey(t *testing.T) {
	s, _ := dynamotest.NewStore(t)
	ctx := context.Background()
	at := dynamotest.Now()
	k := newKey(t, s, helpdesk.PermWrite, at)
	lastUsed := func() time.Time {
		t.Helper()
		got, err := s.APIKeyByHash(ctx, k.Hash)
		if err != nil {
			t.Fatal(err)
		}
		return got.LastUsedAt
	}
	steps := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"FirstUse", at, at},
		{"WithinTheMinute", at.Add(59 * time.Second), at},
		{"AMinuteLater", at.Add(time.Minute), at},
		{"LaterStill", at.Add(time.Minute + time.Millisecond), at.Add(time.Minute + time.Millisecond)},
		{"ClockBehind", at, at.Add(time.Minute + time.Millisecond)},
	}
	for _, st := range steps {
		if err := s.TouchAPIKey(ctx, k.Hash, st.at); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := lastUsed(); !got.Equal(st.want) {
			t.Fatalf("%s: lastUsedAt %v, want %v", st.name, got, st.want)
		}
	}
	// An unknown key is not created by a touch.
	_, unknown, _ := auth.NewKey()
	if err := s.TouchAPIKey(ctx, unknown, at); err != nil {
		t.Fatal(err)
	}
	_, err := s.APIKeyByHash(ctx, unknown)
	wantCode(t, err, helpdesk.CodeNotFound)
}
