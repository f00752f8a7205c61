package helpdesk

import (
	"context"
	"time"
)

// Idempotency keys: a create sent with a key is carried out once; its
// first response is kept and replayed to every retry with the same key.
const (
	// IdempotencyTTL is how long a key and its response are kept.
	IdempotencyTTL = 24 * time.Hour
	// IdempotencyLease is how long a request in progress holds its key.
	// It outlasts the functions' 10 s timeout, so a request that died
	// mid-way frees its key for a retry but a live one never loses it.
	IdempotencyLease = 30 * time.Second
	// MaxIdempotencyKeyLen is the longest key accepted.
	MaxIdempotencyKeyLen = 255
)

// IdempotencyClaim is one request's hold on an idempotency key.
type IdempotencyClaim struct {
	// Scope is whose key it is: the id of the caller's API key, so that
	// two callers never see each other's responses.
	Scope string
	// Key is the client's Idempotency-Key.
	Key string
	// Fingerprint identifies the request (method, route and body), so that
	// a key reused for another request is told apart from a retry.
	Fingerprint string
	// Token is unique to this claim: only its holder completes or
	// releases it.
	Token string
}

// SavedResponse is the first response to an idempotent request, replayed
// to its retries.
type SavedResponse struct {
	Status int
	// Header holds the response headers worth replaying, such as Location
	// and ETag.
	Header map[string]string
	Body   []byte
}

// IdempotencyRecord is the state of a claimed key: a request in progress,
// or (Done) its saved response.
type IdempotencyRecord struct {
	Fingerprint string
	Done        bool
	Response    SavedResponse
}

// Completion records the response to an idempotent create. A store given
// one writes it in the same transaction as the object created, so that
// either both are stored or neither is.
type Completion struct {
	Claim    *IdempotencyClaim
	Response SavedResponse
}

// IdempotencyStore keeps idempotency keys. The completion of a claim is
// written by the create it protects (see Completion), or, for a request
// that writes many items in writes of their own (a bulk update), after
// them by CompleteIdempotencyKey.
type IdempotencyStore interface {
	// ClaimIdempotencyKey claims c's key for IdempotencyLease and returns
	// nil, unless the key is held: by a completed request in the last
	// IdempotencyTTL, or by one in progress whose lease has not run out.
	// Then it returns that record and claims nothing.
	ClaimIdempotencyKey(ctx context.Context, c *IdempotencyClaim) (*IdempotencyRecord, error)
	// ReleaseIdempotencyKey gives up c if it is still c's and in
	// progress, after a request that failed and stored nothing, so that
	// the key can be retried at once.
	ReleaseIdempotencyKey(ctx context.Context, c *IdempotencyClaim) error
	// CompleteIdempotencyKey records done's response for its claim's key,
	// if the claim still holds it. CodePayloadTooLarge if the response is
	// too large to keep (the caller may keep a smaller one instead),
	// CodeConflict if the claim was lost.
	CompleteIdempotencyKey(ctx context.Context, done *Completion) error
}
