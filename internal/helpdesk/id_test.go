package helpdesk_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// idBody is the shape of what NewID appends to the prefix.
var idBody = regexp.MustCompile(`^[a-z2-7]{24}$`)

func TestNewID(t *testing.T) {
	cases := []struct {
		name   string
		prefix string
		valid  func(string) bool // the validator ids of this prefix must pass; nil if none
	}{
		{"Ticket", "tkt_", helpdesk.ValidTicketID},
		{"CustomField", "cf_", helpdesk.ValidCustomFieldID},
		{"NoPrefix", "", nil},
		{"OtherPrefix", "key_", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := helpdesk.NewID(tc.prefix)
			body, ok := strings.CutPrefix(id, tc.prefix)
			if !ok {
				t.Fatalf("NewID(%q) = %q, want the prefix", tc.prefix, id)
			}
			if !idBody.MatchString(body) {
				t.Errorf("NewID(%q) = %q, want the prefix and 24 lowercase base32 characters", tc.prefix, id)
			}
			if tc.valid != nil && !tc.valid(id) {
				t.Errorf("NewID(%q) = %q is rejected by its validator", tc.prefix, id)
			}
		})
	}
}

func TestNewIDDistinct(t *testing.T) {
	const n = 10_000
	seen := make(map[string]bool, n)
	for range n {
		id := helpdesk.NewID("tkt_")
		if seen[id] {
			t.Fatalf("NewID repeated %q within %d ids", id, len(seen)+1)
		}
		seen[id] = true
	}
}

func TestValidTicketID(t *testing.T) {
	cases := []struct {
		name string
		id   string
		want bool
	}{
		{"Generated", "tkt_abcdefghijklmnopqrstuvwx", true},
		{"Short", "tkt_a", true},
		{"WholeAlphabet", "tkt_abcdefghijklmnopqrstuvwxyz234567", true},
		{"Len64", "tkt_" + repeat("a", 64), true},
		{"Len65", "tkt_" + repeat("a", 65), false},
		{"PrefixOnly", "tkt_", false},
		{"Upper", "tkt_ABC", false},
		{"DigitOutsideBase32", "tkt_ab1", false},
		{"Padding", "tkt_abc=", false},
		{"OtherPrefix", "cf_abc", false},
		{"Empty", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := helpdesk.ValidTicketID(tc.id); got != tc.want {
				t.Errorf("ValidTicketID(%q) = %v, want %v", tc.id, got, tc.want)
			}
		})
	}
}
