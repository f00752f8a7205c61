package helpdesk

import (
	"context"
	"time"
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
	// APIKeyByHash returns the key whose digest is hash. CodeNotFound if
	// none.
	APIKeyByHash(ctx context.Context, hash [32]byte) (*APIKey, error)
	// CreateAPIKey stores a new key. CodeConflict if its digest is taken.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// ListAPIKeys returns every key, oldest first.
	ListAPIKeys(ctx context.Context) ([]*APIKey, error)
	// RevokeAPIKey marks the key with the given id revoked at the given
	// time. CodeNotFound if none.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
}
