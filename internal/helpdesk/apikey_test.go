package helpdesk_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/helpdesk"
)

func TestPermissionAllows(t *testing.T) {
	const (
		R = helpdesk.PermRead
		W = helpdesk.PermWrite
		A = helpdesk.PermAdmin
	)
	// invalid holds permissions no key may have; they allow nothing.
	invalid := []helpdesk.Permission{"", "owner", "Admin", "READ", " read"}
	cases := []struct {
		have, needs helpdesk.Permission
		want        bool
	}{
		{R, R, true}, {R, W, false}, {R, A, false},
		{W, R, true}, {W, W, true}, {W, A, false},
		{A, R, true}, {A, W, true}, {A, A, true},
	}
	for _, p := range invalid {
		for _, needs := range append([]helpdesk.Permission{R, W, A}, invalid...) {
			cases = append(cases, struct {
				have, needs helpdesk.Permission
				want        bool
			}{p, needs, false})
		}
		// A route needing an invalid permission is closed to every key.
		for _, have := range []helpdesk.Permission{R, W, A} {
			cases = append(cases, struct {
				have, needs helpdesk.Permission
				want        bool
			}{have, p, false})
		}
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q_needs_%q", tc.have, tc.needs), func(t *testing.T) {
			if got := tc.have.Allows(tc.needs); got != tc.want {
				t.Errorf("Permission(%q).Allows(%q) = %v, want %v", tc.have, tc.needs, got, tc.want)
			}
		})
	}
}

func TestPermissionValid(t *testing.T) {
	if want := []helpdesk.Permission{"read", "write", "admin"}; !slices.Equal(helpdesk.Permissions, want) {
		t.Fatalf("Permissions = %q, want %q (weakest first)", helpdesk.Permissions, want)
	}
	cases := []struct {
		p    helpdesk.Permission
		want bool
	}{
		{"read", true}, {"write", true}, {"admin", true},
		{"", false}, {"owner", false}, {"Admin", false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q", tc.p), func(t *testing.T) {
			if got := tc.p.Valid(); got != tc.want {
				t.Errorf("Permission(%q).Valid() = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestAPIKeyRevoked(t *testing.T) {
	cases := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"Valid", time.Time{}, false},
		{"Revoked", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := &helpdesk.APIKey{ID: "key_a", Permission: helpdesk.PermRead, RevokedAt: tc.at}
			if got := k.Revoked(); got != tc.want {
				t.Errorf("Revoked() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAPIKeyDraftValidate(t *testing.T) {
	str := func(s string) *string { return &s }
	perm := func(p helpdesk.Permission) *helpdesk.Permission { return &p }
	rate := func(n int64) *int64 { return &n }
	cases := []struct {
		name  string
		draft helpdesk.APIKeyDraft
		want  []string
	}{
		{"Valid", helpdesk.APIKeyDraft{Name: str("CI"), Permission: perm("read")}, nil},
		{"ValidWithLimits", helpdesk.APIKeyDraft{Name: str(strings.Repeat("é", 100)), Permission: perm("admin"), RateLimit: rate(1000000)}, nil},
		{"LowestLimit", helpdesk.APIKeyDraft{Name: str(" x "), Permission: perm("write"), RateLimit: rate(1)}, nil},
		{"Missing", helpdesk.APIKeyDraft{}, []string{"k.name", "k.permission"}},
		{"Blank", helpdesk.APIKeyDraft{Name: str(" \t"), Permission: perm("Admin")}, []string{"k.name", "k.permission"}},
		{"TooLong", helpdesk.APIKeyDraft{Name: str(strings.Repeat("a", 101)), Permission: perm("read")}, []string{"k.name"}},
		{"ZeroLimit", helpdesk.APIKeyDraft{Name: str("x"), Permission: perm("read"), RateLimit: rate(0)}, []string{"k.rateLimit"}},
		{"HighLimit", helpdesk.APIKeyDraft{Name: str("x"), Permission: perm("read"), RateLimit: rate(1000001)}, []string{"k.rateLimit"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var problems helpdesk.Problems
			tc.draft.Validate("k.", &problems)
			var got []string
			for _, p := range problems {
				got = append(got, p.Field)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("problems %v, want fields %v", problems, tc.want)
			}
			if len(got) > 0 {
				return
			}
			k := &helpdesk.APIKey{RateLimit: 7}
			tc.draft.Apply(k)
			if k.Name != strings.TrimSpace(*tc.draft.Name) || k.Permission != *tc.draft.Permission || (tc.draft.RateLimit == nil) != (k.RateLimit == 0) {
				t.Fatalf("Apply made %+v", k)
			}
		})
	}
}
