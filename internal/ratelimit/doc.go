// Package ratelimit limits each API key to a number of requests per
// fixed window (a minute, aligned to the clock), across every process that
// serves the key.
//
// The count of a window lives in one shared Counter (DynamoDB, in
// internal/dynamo). A process does not write it per request: it leases a
// block of tokens with one conditional write and spends them locally, so
// writes scale with the limit divided by the block, not with the
// requests. Tokens are only ever handed out by the counter, and the
// counter never hands out more than the limit, so every process together
// admits at most the limit in a window, however many there are. What a
// process holds but does not spend by the window's end is lost; near the
// end blocks shrink to keep that small. When the counter fails, the
// request is admitted (fail open) and the decision says why. The design and
// its measurements are in docs/rate-limits.md.
package ratelimit
