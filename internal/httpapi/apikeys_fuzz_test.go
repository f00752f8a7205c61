package httpapi

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// API key limits as the contract states them.
const (
	apiKeyNameMaxRunes = 100
	rateLimitMax       = 1000000
)

// FuzzDecodeAPIKey feeds arbitrary bodies to the API key decoder and
// validator. What is accepted must be within the contract's limits, say
// what the body says, and survive a client echoing the key's view back.
func FuzzDecodeAPIKey(f *testing.F) {
	for _, seed := range []string{
		`{"apiKey": {"name": "Zapier", "permission": "write"}}`,
		`{"apiKey": {"name": " CI ", "permission": "admin", "rateLimit": 600}}`,
		`{"apiKey": {"name": "x", "permission": "read", "rateLimit": null}}`,
		`{"apiKey": {"name": "x", "permission": "read", "rateLimit": 1.0}}`,
		`{"apiKey": {"name": "x", "permission": "read", "rateLimit": 1e3}}`,
		`{"apiKey": {"name": "x", "permission": "owner", "rateLimit": 1000001}}`,
		`{"apiKey": {"name": "   ", "permission": "Admin", "rateLimit": "5"}}`,
		`{"apiKey": {"id": "key_x", "key": "hd_x", "lastUsedAt": null}, "apiKeys": []}`,
		`{"apiKey": {"name": null, "permission": 3, "rateLimit": -1}}`,
		`{"apiKey": []}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var problems helpdesk.Problems
		fields, err := parseObject(body, "apiKey", &problems)
		if err != nil {
			checkParseError(t, err, "apiKey")
			return
		}
		d := decodeAPIKeyDraft(fields, &problems)
		d.Validate("apiKey.", &problems)
		checkProblems(t, body, "apiKey", problems)
		if problems.Err() != nil {
			return
		}
		k := draftKey(d)
		if n := utf8.RuneCountInString(k.Name); n < 1 || n > apiKeyNameMaxRunes || strings.TrimSpace(k.Name) != k.Name {
			t.Fatalf("accepted name %q", k.Name)
		}
		if !slices.Contains([]string{"read", "write", "admin"}, string(k.Permission)) {
			t.Fatalf("accepted permission %q", k.Permission)
		}
		if k.RateLimit < 0 || k.RateLimit > rateLimitMax {
			t.Fatalf("accepted rate limit %d", k.RateLimit)
		}
		// The rate limit accepted is the integer the body holds.
		if raw, ok := fields["rateLimit"]; ok && string(raw) != "null" {
			var n json.Number
			if json.Unmarshal(raw, &n) != nil || strings.ContainsAny(string(raw), ".eE") || n.String() != strconv.Itoa(k.RateLimit) {
				t.Fatalf("rateLimit %s accepted as %d", raw, k.RateLimit)
			}
		}
		echo := echoBody(t, "apiKey", newAPIKeyJSON(k, ""), "id", "createdAt", "lastUsedAt")
		var echoProblems helpdesk.Problems
		echoFields, err := parseObject(echo, "apiKey", &echoProblems)
		if err != nil {
			t.Fatalf("echo %s: %v", echo, err)
		}
		ed := decodeAPIKeyDraft(echoFields, &echoProblems)
		ed.Validate("apiKey.", &echoProblems)
		if echoProblems.Err() != nil {
			t.Fatalf("echo %s of an accepted key was refused: %v", echo, echoProblems)
		}
		if again := draftKey(ed); again.Name != k.Name || again.Permission != k.Permission || again.RateLimit != k.RateLimit {
			t.Fatalf("echo %s made %+v from %+v", echo, again, k)
		}
	})
}

// draftKey is the key APIKeys.Create makes of an accepted draft.
func draftKey(d *helpdesk.APIKeyDraft) *helpdesk.APIKey {
	k := &helpdesk.APIKey{ID: "key_fuzz", CreatedAt: time.Unix(0, 0)}
	d.Apply(k)
	return k
}
