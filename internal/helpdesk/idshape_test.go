package helpdesk_test

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// TestIDShapesMatchTheirPatterns checks the id validators against the
// regular expressions they stand for, on edge cases and on random strings
// made of the characters that matter at each position.
func TestIDShapesMatchTheirPatterns(t *testing.T) {
	cases := []struct {
		name    string
		pattern *regexp.Regexp
		valid   func(string) bool
		prefix  string
	}{
		{"Ticket", regexp.MustCompile(`^tkt_[a-z2-7]{1,64}$`), helpdesk.ValidTicketID, "tkt_"},
		{"CustomField", regexp.MustCompile(`^cf_[a-z2-7]{1,64}$`), helpdesk.ValidCustomFieldID, "cf_"},
		{"Webhook", regexp.MustCompile(`^whk_[a-z2-7]{24}$`), func(id string) bool { return helpdesk.HasIDShape(id, "whk_", 24, 24) }, "whk_"},
		// The inputs stay under MaxAssigneeIDLen, which is checked apart.
		{"Assignee", regexp.MustCompile(`^usr_[A-Za-z0-9._-]+$`), helpdesk.ValidAssigneeID, "usr_"},
	}
	const alphabet = "az27AZ0189._-/ é\x00"
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inputs := []string{"", tc.prefix, tc.prefix + "a", tc.prefix + strings.Repeat("a", 24), tc.prefix + strings.Repeat("7", 64),
				tc.prefix + strings.Repeat("b", 65), strings.ToUpper(tc.prefix) + "abc", "x" + tc.prefix + "abc", tc.prefix + "abc\n"}
			for range 20000 {
				var b strings.Builder
				if rng.IntN(8) > 0 {
					b.WriteString(tc.prefix)
				}
				for range rng.IntN(70) {
					b.WriteByte(alphabet[rng.IntN(len(alphabet))])
				}
				inputs = append(inputs, b.String())
			}
			for _, id := range inputs {
				if got, want := tc.valid(id), tc.pattern.MatchString(id); got != want {
					t.Fatalf("%q: %v, the pattern says %v", id, got, want)
				}
			}
		})
	}
}
