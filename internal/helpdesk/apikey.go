package helpdesk

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Permission is what an API key may do. Each permission implies the ones
// below it: admin > write > read.
type Permission string

// The permissions.
const (
	PermRead  Permission = "read"
	PermWrite Permission = "write"
	PermAdmin Permission = "admin"
)

// Permissions lists every permission, weakest first.
var Permissions = []Permission{PermRead, PermWrite, PermAdmin}

func (p Permission) rank() int {
	for i, q := range Permissions {
		if p == q {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether p is one of Permissions.
func (p Permission) Valid() bool { return p.rank() > 0 }

// Allows reports whether a key with permission p may do what needs.
// An invalid needs allows nothing, so a route with a mistyped permission
// is closed, not open.
func (p Permission) Allows(needs Permission) bool {
	return p.Valid() && needs.Valid() && p.rank() >= needs.rank()
}

// Caller is who a request authenticated as.
type Caller struct {
	// KeyID is the id of the caller's API key.
	KeyID string
	// KeyName is the name of the caller's API key.
	KeyName    string
	Permission Permission
	// RateLimit is the key's own limit in requests per minute; zero
	// means the stack's default.
	RateLimit int
}

// APIKey is a stored API key. The key itself is never stored, only its
// SHA-256 digest.
type APIKey struct {
	ID         string
	Name       string
	Permission Permission
	Hash       [32]byte
	// RateLimit is the key's limit in requests per minute; zero means
	// the stack's default (HELPDESK_RATE_LIMIT).
	RateLimit int
	CreatedAt time.Time
	// LastUsedAt is when the key was last used, to the minute: it is
	// written at most once a minute. Zero if it never was.
	LastUsedAt time.Time
	RevokedAt  time.Time // zero while the key is valid
}

// Revoked reports whether the key has been revoked.
func (k *APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// APIKeyStore keeps API keys.
type APIKeyStore interface {
	// APIKeyByHash returns the key whose digest is hash, revoked or not.
	// CodeNotFound if none.
	APIKeyByHash(ctx context.Context, hash [32]byte) (*APIKey, error)
	// APIKey returns the key with the given id, revoked or not.
	// CodeNotFound if none.
	APIKey(ctx context.Context, id string) (*APIKey, error)
	// CreateAPIKey stores a new key. CodeConflict if its digest is taken.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// ListAPIKeys returns every key, revoked ones too, oldest first.
	ListAPIKeys(ctx context.Context) ([]*APIKey, error)
	// ValidAPIKeys returns one page of the keys not revoked, oldest
	// first, after the opaque cursor after ("" for the first page).
	// CodeBadRequest for a cursor that is not one of this list's.
	ValidAPIKeys(ctx context.Context, pageSize int, after string) (*APIKeyPage, error)
	// RevokeAPIKey marks the key with the given id revoked at the given
	// time. CodeNotFound if there is none or it is already revoked.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	// TouchAPIKey records that the key whose digest is hash was used at
	// at, unless its recorded use is less than LastUsedInterval before at
	// (or later). It writes nothing for a key that does not exist.
	TouchAPIKey(ctx context.Context, hash [32]byte, at time.Time) error
}

// LastUsedInterval is how often, at most, a key's LastUsedAt changes: a
// use records the time only when the recorded one is older than this.
const LastUsedInterval = time.Minute

// APIKeyPage is one page of a key list.
type APIKeyPage struct {
	Keys []*APIKey
	// Next is the cursor of the next page; empty when there is none.
	Next string
}

// Limits of an API key's fields.
const (
	MaxAPIKeyNameLen = 100
	MaxRateLimit     = 1_000_000
)

// ValidAPIKeyID reports whether id has the shape of an API key id, so that
// a lookup of anything else can be answered without a read.
func ValidAPIKeyID(id string) bool { return HasIDShape(id, "key_", 1, 64) }

// APIKeyDraft is a request for a new API key: the fields it gave, nil when
// absent.
type APIKeyDraft struct {
	Name       *string
	Permission *Permission
	// RateLimit is the requested limit in requests per minute; nil (or
	// null in the request) for the stack's default. Out-of-range values
	// are kept so that Validate names them.
	RateLimit *int64
}

// Validate checks d, collecting one problem per bad field under prefix
// (e.g. "apiKey."). Name and permission are required.
func (d *APIKeyDraft) Validate(prefix string, problems *Problems) {
	switch {
	case d.Name != nil:
		switch n := utf8.RuneCountInString(strings.TrimSpace(*d.Name)); {
		case n == 0:
			problems.Add(prefix+"name", "must not be blank")
		case n > MaxAPIKeyNameLen:
			problems.Add(prefix+"name", "must be at most %d characters", MaxAPIKeyNameLen)
		}
	case !problems.Has(prefix + "name"):
		problems.Add(prefix+"name", "is required")
	}
	switch {
	case d.Permission != nil:
		if !d.Permission.Valid() {
			problems.Add(prefix+"permission", "must be one of %s", join(Permissions))
		}
	case !problems.Has(prefix + "permission"):
		problems.Add(prefix+"permission", "is required")
	}
	if d.RateLimit != nil && (*d.RateLimit < 1 || *d.RateLimit > MaxRateLimit) {
		problems.Add(prefix+"rateLimit", "must be a whole number from 1 to %d, or null for the default", MaxRateLimit)
	}
}

// Apply sets the fields of k that the valid draft d gives: the name
// trimmed, the permission, and the rate limit (zero, the default, when d
// has none).
func (d *APIKeyDraft) Apply(k *APIKey) {
	if d.Name != nil {
		k.Name = strings.TrimSpace(*d.Name)
	}
	if d.Permission != nil {
		k.Permission = *d.Permission
	}
	k.RateLimit = 0
	if d.RateLimit != nil {
		k.RateLimit = int(*d.RateLimit)
	}
}

// Errors of the key operations.
var (
	errAPIKeyNotFound = Errorf(CodeNotFound, "API key not found.")
	// ErrLastAdminKey refuses the revocation of the caller's own key when
	// it is the last valid admin key: nobody could manage keys over the
	// API after it.
	ErrLastAdminKey = Errorf(CodeConflict, "This is the last valid admin key: it cannot revoke itself. Create another admin key first, or revoke it with the keys command.")
)

// APIKeys carries out the API's operations on API keys.
type APIKeys struct {
	Store APIKeyStore
	// Now is the clock, read once per operation.
	Now Clock
	// NewKey returns a fresh key, its SHA-256 digest and its id
	// (auth.NewKey).
	NewKey func() (key string, hash [32]byte, id string)
}

// Create validates d and stores a new key; it returns the key's record
// and the key itself, which is stored nowhere and so can be shown only
// now. problems is as for Service.CreateTicket.
func (s *APIKeys) Create(ctx context.Context, d *APIKeyDraft, problems Problems) (*APIKey, string, error) {
	d.Validate("apiKey.", &problems)
	if err := problems.Err(); err != nil {
		return nil, "", err
	}
	key, hash, id := s.NewKey()
	k := &APIKey{ID: id, Hash: hash, CreatedAt: s.Now.Now()}
	d.Apply(k)
	if err := s.Store.CreateAPIKey(ctx, k); err != nil {
		return nil, "", err
	}
	return k, key, nil
}

// Key returns the valid key with the given id. CodeNotFound if there is
// none, or it is revoked: a revoked key is gone from the API.
func (s *APIKeys) Key(ctx context.Context, id string) (*APIKey, error) {
	if !ValidAPIKeyID(id) {
		return nil, errAPIKeyNotFound
	}
	k, err := s.Store.APIKey(ctx, id)
	if err != nil {
		return nil, err
	}
	if k.Revoked() {
		return nil, errAPIKeyNotFound
	}
	return k, nil
}

// List returns one page of the valid keys, oldest first.
func (s *APIKeys) List(ctx context.Context, pageSize int, after string) (*APIKeyPage, error) {
	return s.Store.ValidAPIKeys(ctx, pageSize, after)
}

// Revoke revokes the valid key with the given id on behalf of caller.
// CodeNotFound if there is none (or it is already revoked); CodeConflict
// (ErrLastAdminKey) when it is the caller's own key and no other valid
// admin key exists. Two last admin keys revoking each other at the same
// moment may both succeed: the check and the revocation are not one
// transaction (see docs/api-keys.md).
func (s *APIKeys) Revoke(ctx context.Context, caller Caller, id string) error {
	if !ValidAPIKeyID(id) {
		return errAPIKeyNotFound
	}
	if id == caller.KeyID {
		k, err := s.Key(ctx, id)
		if err != nil {
			return err
		}
		if k.Permission == PermAdmin {
			keys, err := s.Store.ListAPIKeys(ctx)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(keys, func(o *APIKey) bool { return o.ID != id && !o.Revoked() && o.Permission == PermAdmin }) {
				return ErrLastAdminKey
			}
		}
	}
	return s.Store.RevokeAPIKey(ctx, id, s.Now.Now())
}
