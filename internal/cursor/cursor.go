package cursor

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// KeySize is the length of a cursor key in bytes.
const KeySize = 32

// MaxTokenLen bounds the tokens Open accepts, so that an oversized query
// parameter costs no decoding.
const MaxTokenLen = 4096

// ErrInvalid is returned for a token that is malformed, altered, sealed
// under another key or bound to another query.
var ErrInvalid = errors.New("invalid cursor")

var encoding = base64.RawURLEncoding

// Codec seals and opens tokens under one key. It is safe for concurrent use.
type Codec struct {
	aead cipher.AEAD
}

// New returns a Codec for a KeySize-byte key.
func New(key []byte) (*Codec, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("cursor key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cursor key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("cursor key: %w", err)
	}
	return &Codec{aead: aead}, nil
}

// ParseKey decodes a key written as base64 (standard or URL alphabet,
// padded or not), as configuration holds it.
func ParseKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil && len(key) == KeySize {
			return key, nil
		}
	}
	return nil, fmt.Errorf("cursor key must be %d bytes in base64", KeySize)
}

// Seal returns a URL-safe token carrying state, bound to binding.
func (c *Codec) Seal(binding string, state []byte) string {
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(state)+c.aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	return encoding.EncodeToString(c.aead.Seal(nonce, nonce, state, []byte(binding)))
}

// Open returns the state sealed in token, or ErrInvalid.
func (c *Codec) Open(binding, token string) ([]byte, error) {
	if len(token) > MaxTokenLen {
		return nil, ErrInvalid
	}
	raw, err := encoding.DecodeString(token)
	// The decoder skips newlines and ignores the unused low bits of the
	// last character, so other texts decode to the bytes of a sealed token.
	// Only the text Seal wrote is one.
	if err != nil || encoding.EncodeToString(raw) != token || len(raw) < c.aead.NonceSize()+c.aead.Overhead() {
		return nil, ErrInvalid
	}
	n := c.aead.NonceSize()
	state, err := c.aead.Open(nil, raw[:n], raw[n:], []byte(binding))
	if err != nil {
		return nil, ErrInvalid
	}
	return state, nil
}
