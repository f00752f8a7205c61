package cursor_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/cursor"
)

func mustCodec(tb testing.TB, fill byte) *cursor.Codec {
	tb.Helper()
	c, err := cursor.New(bytes.Repeat([]byte{fill}, cursor.KeySize))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestRoundTrip(t *testing.T) {
	c := mustCodec(t, 1)
	state := []byte(`{"k":{"pk":"TICKET#tkt_abc"}}`)
	token := c.Seal("status=open", state)
	if strings.Contains(token, "tkt_abc") || strings.ContainsAny(token, "+/=") {
		t.Fatalf("token is not opaque and URL-safe: %q", token)
	}
	got, err := c.Open("status=open", token)
	if err != nil || !bytes.Equal(got, state) {
		t.Fatalf("Open = %q, %v; want %q", got, err, state)
	}
}

func TestRejects(t *testing.T) {
	c := mustCodec(t, 1)
	token := c.Seal("q1", []byte("state"))
	flipped := []byte(token)
	flipped[len(flipped)/2] ^= 1
	cases := map[string]struct {
		codec          *cursor.Codec
		binding, token string
	}{
		"OtherBinding": {c, "q2", token},
		"OtherKey":     {mustCodec(t, 2), "q1", token},
		"Tampered":     {c, "q1", string(flipped)},
		"Truncated":    {c, "q1", token[:len(token)-3]},
		"NotBase64":    {c, "q1", "%%%"},
		"Empty":        {c, "q1", ""},
		"TooLong":      {c, "q1", strings.Repeat("A", cursor.MaxTokenLen+1)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := tc.codec.Open(tc.binding, tc.token); !errors.Is(err, cursor.ErrInvalid) {
				t.Fatalf("Open = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	if _, err := cursor.ParseKey("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="); err != nil {
		t.Fatal(err)
	}
	if _, err := cursor.ParseKey("c2hvcnQ="); err == nil {
		t.Fatal("a short key was accepted")
	}
	if _, err := cursor.New([]byte("short")); err == nil {
		t.Fatal("New accepted a short key")
	}
}

func FuzzOpen(f *testing.F) {
	c := mustCodec(f, 7)
	f.Add("q", c.Seal("q", []byte("state")))
	f.Add("q", "")
	f.Add("", "AAAA")
	f.Fuzz(func(t *testing.T, binding, token string) {
		state, err := c.Open(binding, token)
		if err != nil {
			return
		}
		// Whatever opens must re-seal and open to the same state.
		again, err := c.Open(binding, c.Seal(binding, state))
		if err != nil || !bytes.Equal(again, state) {
			t.Fatalf("re-sealed state did not round-trip: %v", err)
		}
	})
}
