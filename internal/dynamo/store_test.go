package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

func mustCreate(tb testing.TB, s helpdesk.TicketStore, t *helpdesk.Ticket) *helpdesk.Ticket {
	tb.Helper()
	if err := s.CreateTicket(context.Background(), t, nil); err != nil {
		tb.Fatal(err)
	}
	return t
}

func wantCode(tb testing.TB, err error, code helpdesk.Code) {
	tb.Helper()
	if got := helpdesk.ErrorCode(err); got != code {
		tb.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func sampleTicket(id string, at time.Time) *helpdesk.Ticket {
	t := helpdesk.NewTicket(id, at)
	t.Subject = "Cannot log in"
	t.AssigneeID = "usr_abc"
	t.RequesterEmail = "jane@example.com"
	t.Tags = []string{"billing", "vip"}
	t.CustomFields = []helpdesk.CustomFieldValue{{ID: "cf_a", Value: "Pro"}, {ID: "cf_b", Value: helpdesk.Number("42.5")}, {ID: "cf_c", Value: true}}
	return t
}

func TestTicketRoundTrip(t *testing.T) {
	s, _ := dynamotest.NewStore(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC)
	want := mustCreate(t, s, sampleTicket("tkt_roundtrip", at))
	got, err := s.Ticket(ctx, "tkt_roundtrip")
	if err != nil {
		t.Fatal(err)
	}
	if !got.SameContent(want) || !got.CreatedAt.Equal(at) || !got.UpdatedAt.Equal(at) || got.Version != 1 {
		t.Fatalf("read back %+v, want %+v", got, want)
	}
	t.Run("CreateConflict", func(t *testing.T) {
		wantCode(t, s.CreateTicket(ctx, sampleTicket("tkt_roundtrip", at.Add(time.Second)), nil), helpdesk.CodeConflict)
	})
	t.Run("NotFound", func(t *testing.T) {
		_, err := s.Ticket(ctx, "tkt_missing")
		wantCode(t, err, helpdesk.CodeNotFound)
		_, err = s.UpdateTicket(ctx, "tkt_missing", func(*helpdesk.Ticket) (bool, error) { return true, nil })
		wantCode(t, err, helpdesk.CodeNotFound)
		wantCode(t, s.DeleteTicket(ctx, "tkt_missing", helpdesk.Precondition{}, dynamotest.Deletion()), helpdesk.CodeNotFound)
	})
	t.Run("UnchangedUpdateWritesNothing", func(t *testing.T) {
		got, err := s.UpdateTicket(ctx, "tkt_roundtrip", func(*helpdesk.Ticket) (bool, error) { return false, nil })
		if err != nil || got.Version != 1 {
			t.Fatalf("update = %+v, %v; want version 1", got, err)
		}
	})
	t.Run("UpdateThenDelete", func(t *testing.T) {
		got, err := s.UpdateTicket(ctx, "tkt_roundtrip", func(t *helpdesk.Ticket) (bool, error) {
			t.AssigneeID, t.Tags = "", []string{}
			return true, nil
		})
		if err != nil || got.Version != 2 {
			t.Fatalf("update = %+v, %v", got, err)
		}
		again, _ := s.Ticket(ctx, "tkt_roundtrip")
		if again.AssigneeID != "" || len(again.Tags) != 0 || again.Tags == nil {
			t.Fatalf("cleared fields read back as %+v", again)
		}
		if err := s.DeleteTicket(ctx, "tkt_roundtrip", helpdesk.Precondition{}, dynamotest.Deletion()); err != nil {
			t.Fatal(err)
		}
		_, err = s.Ticket(ctx, "tkt_roundtrip")
		wantCode(t, err, helpdesk.CodeNotFound)
	})
}

// TestConcurrentUpdatesLoseNothing has many writers each add their own tag
// through read-modify-write: every writer told "done" must find its tag in
// the final ticket; the rest must have been told CodeConflict.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	s, _ := dynamotest.NewStore(t)
	ctx := context.Background()
	mustCreate(t, s, sampleTicket("tkt_contended", time.Now()))
	const writers = 16
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			_, errs[i] = s.UpdateTicket(ctx, "tkt_contended", func(t *helpdesk.Ticket) (bool, error) {
				t.Tags = append(t.Tags, fmt.Sprintf("w%d", i))
				return true, nil
			})
		})
	}
	wg.Wait()
	final, err := s.Ticket(ctx, "tkt_contended")
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for i, err := range errs {
		tagged := slices.Contains(final.Tags, fmt.Sprintf("w%d", i))
		switch code := helpdesk.ErrorCode(err); {
		case err == nil && tagged:
			ok++
		case code == helpdesk.CodeConflict && !tagged:
		default:
			t.Errorf("writer %d: err %v, tag present %v", i, err, tagged)
		}
	}
	if int(final.Version) != ok+1 || ok == 0 {
		t.Fatalf("version %d after %d successful writes", final.Version, ok)
	}
}

func TestCustomFields(t *testing.T) {
	s, _ := dynamotest.NewStore(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	plan := &helpdesk.CustomField{ID: "cf_plan", Name: "Plan", Type: helpdesk.FieldDropdown, Options: []string{"Pro"}, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateCustomField(ctx, plan, nil); err != nil {
		t.Fatal(err)
	}
	t.Run("NameTakenIgnoringCase", func(t *testing.T) {
		dup := &helpdesk.CustomField{ID: "cf_other", Name: "PLAN", Type: helpdesk.FieldText, CreatedAt: now, UpdatedAt: now}
		wantCode(t, s.CreateCustomField(ctx, dup, nil), helpdesk.CodeConflict)
		if _, err := s.CustomField(ctx, "cf_other"); helpdesk.ErrorCode(err) != helpdesk.CodeNotFound {
			t.Fatalf("a rejected create left its definition behind: %v", err)
		}
	})
	region := &helpdesk.CustomField{ID: "cf_region", Name: "Region", Type: helpdesk.FieldText, CreatedAt: now.Add(time.Millisecond), UpdatedAt: now}
	if err := s.CreateCustomField(ctx, region, nil); err != nil {
		t.Fatal(err)
	}
	t.Run("RenameMovesTheReservation", func(t *testing.T) {
		_, err := s.UpdateCustomField(ctx, "cf_region", func(f *helpdesk.CustomField) (bool, error) { f.Name = "plan"; return true, nil })
		wantCode(t, err, helpdesk.CodeConflict)
		if _, err := s.UpdateCustomField(ctx, "cf_region", func(f *helpdesk.CustomField) (bool, error) { f.Name = "Area"; return true, nil }); err != nil {
			t.Fatal(err)
		}
		reuse := &helpdesk.CustomField{ID: "cf_new", Name: "region", Type: helpdesk.FieldText, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateCustomField(ctx, reuse, nil); err != nil {
			t.Fatalf("the old name stayed reserved: %v", err)
		}
		wantCode(t, s.CreateCustomField(ctx, &helpdesk.CustomField{ID: "cf_x", Name: "area", CreatedAt: now, UpdatedAt: now}, nil), helpdesk.CodeConflict)
	})
	t.Run("ListAndBatch", func(t *testing.T) {
		all, err := s.ListCustomFields(ctx)
		// Oldest first, ties by id: cf_new and cf_plan share a creation time.
		if err != nil || len(all) != 3 || all[0].ID != "cf_new" || all[1].ID != "cf_plan" || all[2].ID != "cf_region" {
			t.Fatalf("list = %v, %v", all, err)
		}
		got, err := s.CustomFieldsByID(ctx, []string{"cf_plan", "cf_missing", "cf_plan"})
		if err != nil || len(got) != 1 || got["cf_plan"].Options[0] != "Pro" {
			t.Fatalf("batch = %v, %v", got, err)
		}
	})
	t.Run("DeleteFreesName", func(t *testing.T) {
		if err := s.DeleteCustomField(ctx, "cf_plan"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.DeleteCustomField(ctx, "cf_plan"), helpdesk.CodeNotFound)
		again := &helpdesk.CustomField{ID: "cf_plan2", Name: "Plan", Type: helpdesk.FieldText, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateCustomField(ctx, again, nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	s, _ := dynamotest.NewStore(t)
	ctx := context.Background()
	k := &helpdesk.APIKey{ID: "key_one", Name: "bot", Permission: helpdesk.PermWrite, Hash: [32]byte{1, 2, 3}, CreatedAt: time.Now()}
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	again := *k
	again.ID, again.CreatedAt = "key_again", k.CreatedAt.Add(time.Second)
	wantCode(t, s.CreateAPIKey(ctx, &again), helpdesk.CodeConflict)
	got, err := s.APIKeyByHash(ctx, [32]byte{1, 2, 3})
	if err != nil || got.ID != "key_one" || got.Permission != helpdesk.PermWrite || got.Hash != k.Hash || got.Revoked() {
		t.Fatalf("by hash = %+v, %v", got, err)
	}
	_, err = s.APIKeyByHash(ctx, [32]byte{9})
	wantCode(t, err, helpdesk.CodeNotFound)
	if err := s.RevokeAPIKey(ctx, "key_one", time.Now()); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.RevokeAPIKey(ctx, "key_none", time.Now()), helpdesk.CodeNotFound)
	keys, err := s.ListAPIKeys(ctx)
	if err != nil || len(keys) != 1 || !keys[0].Revoked() {
		t.Fatalf("list = %+v, %v", keys, err)
	}
}
