package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// Prefix starts every API key, so that a leaked key is recognisable (for
// example by secret scanners).
const Prefix = "hd_"

const secretLen = 32

var encoding = base64.RawURLEncoding

var keyLen = len(Prefix) + encoding.EncodedLen(secretLen)

// NewKey returns a fresh API key, its digest and an id to show for it.
func NewKey() (key string, hash [32]byte, id string) {
	b := make([]byte, secretLen)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	key = Prefix + encoding.EncodeToString(b)
	return key, sha256.Sum256([]byte(key)), helpdesk.NewID("key_")
}

// Digest returns the digest of key, or false when key does not have the
// shape of an API key (so it can be refused without a lookup).
func Digest(key string) ([32]byte, bool) {
	if len(key) != keyLen || !strings.HasPrefix(key, Prefix) {
		return [32]byte{}, false
	}
	if _, err := encoding.DecodeString(key[len(Prefix):]); err != nil {
		return [32]byte{}, false
	}
	return sha256.Sum256([]byte(key)), true
}

// CacheTTL is how long a key lookup is trusted: a revoked key stops
// working within this time.
const CacheTTL = 60 * time.Second

// maxCached bounds the cache; it is emptied when full.
const maxCached = 10000

var errUnauthorized = helpdesk.Errorf(helpdesk.CodeUnauthorized, "A valid API key is required: send it as \"Authorization: Bearer <key>\".")

// Authenticator checks the keys of requests against a store through a
// short-lived cache, and records when each key was last used. It is safe
// for concurrent use.
type Authenticator struct {
	keys helpdesk.APIKeyStore
	now  func() time.Time
	log  *slog.Logger

	mu    sync.Mutex
	cache map[[32]byte]cached
}

type cached struct {
	caller  helpdesk.Caller // zero: unknown or revoked
	expires time.Time
	// touched is when this process last recorded the key's use; it
	// outlives the entry's refreshes.
	touched time.Time
}

// NewAuthenticator returns an Authenticator on keys.
func NewAuthenticator(keys helpdesk.APIKeyStore) *Authenticator {
	return &Authenticator{keys: keys, now: time.Now, log: slog.Default(), cache: map[[32]byte]cached{}}
}

// SetClock replaces the clock (tests; the default is time.Now).
func (a *Authenticator) SetClock(now func() time.Time) { a.now = now }

// SetLogger replaces the logger that failures to record a key's use go
// to (the default is slog.Default()).
func (a *Authenticator) SetLogger(l *slog.Logger) { a.log = l }

// Authenticate returns who holds the key in an Authorization header value.
// CodeUnauthorized for a missing, malformed, unknown or revoked key.
//
// A valid key's use is recorded (APIKeyStore.TouchAPIKey) when this
// process has not recorded it in the last helpdesk.LastUsedInterval: one
// conditional write per key per minute per process at most, which the
// store's condition makes at most one change of the stored time a minute.
// A failure to record is logged and does not fail the request.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (helpdesk.Caller, error) {
	scheme, key, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return helpdesk.Caller{}, errUnauthorized
	}
	hash, ok := Digest(strings.TrimSpace(key))
	if !ok {
		return helpdesk.Caller{}, errUnauthorized
	}
	now := a.now()
	a.mu.Lock()
	c, hit := a.cache[hash]
	a.mu.Unlock()
	touched := c.touched
	if !hit || now.After(c.expires) {
		k, err := a.keys.APIKeyByHash(ctx, hash)
		switch {
		case helpdesk.ErrorCode(err) == helpdesk.CodeNotFound:
			c = cached{}
		case err != nil:
			return helpdesk.Caller{}, err
		case subtle.ConstantTimeCompare(k.Hash[:], hash[:]) != 1 || k.Revoked() || !k.Permission.Valid():
			c = cached{}
		default:
			c = cached{caller: helpdesk.Caller{KeyID: k.ID, KeyName: k.Name, Permission: k.Permission, RateLimit: k.RateLimit}}
		}
		c.expires = now.Add(CacheTTL)
		c.touched = touched
		a.store(hash, c)
	}
	if c.caller.Permission == "" {
		return helpdesk.Caller{}, errUnauthorized
	}
	if c.touched.IsZero() || now.Sub(c.touched) >= helpdesk.LastUsedInterval {
		c.touched = now
		a.store(hash, c)
		// The request's own context: a touch cut short by a client gone
		// is only a use recorded a minute later.
		if err := a.keys.TouchAPIKey(ctx, hash, now.UTC().Truncate(time.Millisecond)); err != nil {
			a.log.WarnContext(ctx, "could not record an API key's use", slog.String("key_id", c.caller.KeyID), slog.String("error", err.Error()))
		}
	}
	return c.caller, nil
}

// store caches c for hash, emptying the cache when it is full.
func (a *Authenticator) store(hash [32]byte, c cached) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.cache[hash]; !ok && len(a.cache) >= maxCached {
		clear(a.cache)
	}
	a.cache[hash] = c
}
