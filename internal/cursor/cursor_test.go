package cursor_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
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
	// 4 bytes of state make 32 bytes, so the last character carries 2
	// unused bits; setting one decodes to the same bytes.
	short := c.Seal("q1", []byte("stat"))
	last := strings.IndexByte(base64URL, short[len(short)-1])
	spare := short[:len(short)-1] + string(base64URL[last|1])
	if spare == short {
		spare = short[:len(short)-1] + string(base64URL[last&^1])
	}
	cases := map[string]struct {
		codec          *cursor.Codec
		binding, token string
	}{
		"OtherBinding": {c, "q2", token},
		"OtherKey":     {mustCodec(t, 2), "q1", token},
		"Tampered":     {c, "q1", string(flipped)},
		"Truncated":    {c, "q1", token[:len(token)-3]},
		"Newline":      {c, "q1", token[:8] + "\n" + token[8:]},
		"SpareBits":    {c, "q1", spare},
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

// fuzzKey is the key of the fuzz targets' codec. It is fixed, so that
// tokens sealed in one process (a seed, the fuzz cache, another worker)
// open in another, and the committed seeds include genuine tokens.
var fuzzKey = bytes.Repeat([]byte{7}, cursor.KeySize)

// base64URL is the alphabet of unpadded URL-safe base64.
const base64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// referenceOpen states, without the codec, which tokens a codec with key
// has sealed for binding: at most MaxTokenLen characters of canonical
// unpadded URL-safe base64 (the only text Seal writes for those bytes),
// holding a 12-byte nonce and the AES-256-GCM sealing of the state under
// it with the binding as additional data. It returns the state.
func referenceOpen(tb testing.TB, key []byte, binding, token string) ([]byte, bool) {
	tb.Helper()
	if len(token) > cursor.MaxTokenLen || strings.Trim(token, base64URL) != "" {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) < 12 {
		return nil, false
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		tb.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		tb.Fatal(err)
	}
	state, err := gcm.Open(nil, raw[:12], raw[12:], []byte(binding))
	return state, err == nil
}

// FuzzOpen opens arbitrary tokens under arbitrary bindings. Open must
// accept exactly the tokens the codec sealed for that binding, as
// referenceOpen states them, and give back the state they carry.
func FuzzOpen(f *testing.F) {
	c := mustCodec(f, 7)
	for _, s := range []struct{ binding, state string }{
		{"q", "state"}, {"q", "a"}, {"q", "ab"}, {"", ""},
		{"status=open|sort=created_at|desc", `{"pk":"TICKET#tkt_abc","sk":"TICKET"}`},
	} {
		f.Add(s.binding, c.Seal(s.binding, []byte(s.state)))
	}
	f.Add("q", "")
	f.Add("", "AAAA")
	f.Fuzz(func(t *testing.T, binding, token string) {
		state, err := c.Open(binding, token)
		want, genuine := referenceOpen(t, fuzzKey, binding, token)
		switch {
		case err != nil && !errors.Is(err, cursor.ErrInvalid):
			t.Fatalf("Open(%q, %q) = %v, want ErrInvalid", binding, token, err)
		case err != nil && genuine:
			t.Fatalf("Open(%q, %q) refused a token sealed for it: %v", binding, token, err)
		case err == nil && !genuine:
			t.Fatalf("Open(%q, %q) accepted a token the codec did not seal for it", binding, token)
		case err == nil && !bytes.Equal(state, want):
			t.Fatalf("Open(%q, %q) = %q, want %q", binding, token, state, want)
		}
	})
}

// maxState is the longest state whose token fits in MaxTokenLen: 3072
// bytes of nonce, state and tag make 4096 characters.
const maxState = cursor.MaxTokenLen*6/8 - 12 - 16

// TestSealLongest: Open refuses tokens longer than MaxTokenLen, so a
// state round-trips only up to maxState bytes. The store's states (an
// index key) are far shorter.
func TestSealLongest(t *testing.T) {
	c := mustCodec(t, 1)
	longest := bytes.Repeat([]byte{'s'}, maxState)
	if token := c.Seal("q", longest); len(token) != cursor.MaxTokenLen {
		t.Fatalf("a state of %d bytes made a token of %d characters, want %d", maxState, len(token), cursor.MaxTokenLen)
	}
	if got, err := c.Open("q", c.Seal("q", longest)); err != nil || !bytes.Equal(got, longest) {
		t.Fatalf("the longest state did not round-trip: %v", err)
	}
	if _, err := c.Open("q", c.Seal("q", append(longest, 's'))); !errors.Is(err, cursor.ErrInvalid) {
		t.Fatalf("a token over MaxTokenLen opened: %v", err)
	}
}

// FuzzSeal seals arbitrary states up to maxState bytes. A token must be
// URL-safe, open to its state under its binding only and under this key
// only, differ from the next sealing of the same state, and stop opening
// when any one character changes.
func FuzzSeal(f *testing.F) {
	c, other := mustCodec(f, 7), mustCodec(f, 8)
	f.Add("q", "q2", []byte("state"), uint(0), byte(0))
	f.Add("", "x", []byte{}, uint(3), byte(1))
	f.Add("status=new", "status=new ", []byte(`{"pk":"TICKET#tkt_abc"}`), uint(41), byte(63))
	f.Fuzz(func(t *testing.T, binding, otherBinding string, state []byte, at uint, to byte) {
		if len(state) > maxState {
			// TestSealLongest has the edge. Past it, a long input only
			// slows the fuzzer down: minimizing one takes many runs,
			// most failing, since coverage follows the length mod 3.
			return
		}
		token := c.Seal(binding, state)
		if strings.Trim(token, base64URL) != "" || len(token) > cursor.MaxTokenLen {
			t.Fatalf("token %q is not at most MaxTokenLen of unpadded URL-safe base64", token)
		}
		if got, ok := referenceOpen(t, fuzzKey, binding, token); !ok || !bytes.Equal(got, state) {
			t.Fatalf("token %q is not what referenceOpen says a sealed token is", token)
		}
		if got, err := c.Open(binding, token); err != nil || !bytes.Equal(got, state) {
			t.Fatalf("Open(Seal(%q)) = %q, %v", state, got, err)
		}
		if again := c.Seal(binding, state); again == token {
			t.Fatal("sealing the same state twice gave the same token")
		}
		if otherBinding != binding {
			if _, err := c.Open(otherBinding, token); !errors.Is(err, cursor.ErrInvalid) {
				t.Fatalf("a token for %q opened for %q", binding, otherBinding)
			}
		}
		if _, err := other.Open(binding, token); !errors.Is(err, cursor.ErrInvalid) {
			t.Fatal("a token opened under another key")
		}
		// The change is a function of the inputs alone, not of the random
		// nonce, so that an input always takes the same paths: the fuzzer
		// stalls on inputs whose coverage varies.
		i, changed := int(at%uint(len(token))), []byte(token)
		changed[i] = base64URL[strings.IndexByte(base64URL, token[i])^(1+int(to)%63)]
		if got, err := c.Open(binding, string(changed)); !errors.Is(err, cursor.ErrInvalid) {
			t.Fatalf("token %q with character %d changed to %q opened to %q", token, i, changed[i], got)
		}
	})
}
