package events

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Names of the HTTP headers of a delivery, as the Standard Webhooks
// specification spells them. Lookups ignore case.
const (
	// HeaderID carries the event's id, equal to [Event.ID].
	HeaderID = "webhook-id"
	// HeaderTimestamp carries the time of sending as decimal Unix seconds.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature carries one or more space-separated signatures, each
	// "v1," followed by a base64 HMAC-SHA256.
	HeaderSignature = "webhook-signature"
)

// Tolerance is how far the webhook-timestamp header may lie from the
// receiver's clock, in either direction, for [Verify] to accept a delivery.
// It bounds how long a captured delivery can be replayed.
const Tolerance = 5 * time.Minute

// Errors that [Verify], [VerifyAt] and [Parse] wrap; test for them with
// errors.Is.
var (
	// ErrMissingHeaders means the webhook-id, webhook-timestamp or
	// webhook-signature header is missing or empty, or given by hand
	// under two spellings with different values.
	ErrMissingHeaders = errors.New("events: missing webhook headers")
	// ErrTimestamp means the webhook-timestamp header is not a decimal
	// integer, or lies more than Tolerance before or after now.
	ErrTimestamp = errors.New("events: webhook timestamp malformed or outside tolerance")
	// ErrSignature means no v1 signature in the webhook-signature header
	// matches the delivery.
	ErrSignature = errors.New("events: no matching webhook signature")
	// ErrSecret means a secret given to ParseSecret, Sign, Verify, VerifyAt
	// or Parse is malformed or of the wrong length.
	ErrSecret = errors.New("events: invalid webhook secret")
)

// SecretPrefix starts every signing secret, so that a leaked one is
// recognisable (for example by secret scanners).
const SecretPrefix = "whsec_"

const (
	// newSecretLen is the key length NewSecret makes, in bytes.
	newSecretLen = 32
	// minSecretLen and maxSecretLen bound the keys ParseSecret accepts, in
	// bytes, as the Standard Webhooks specification does.
	minSecretLen = 24
	maxSecretLen = 64
	// sigVersion is the signature scheme this package makes and checks.
	sigVersion = "v1"
)

// NewSecret returns a new random signing secret: "whsec_" followed by the
// standard base64 encoding, with padding, of 32 bytes from crypto/rand.
func NewSecret() string {
	// crypto/rand.Read never returns an error; it crashes the program
	// irrecoverably if the system's random source fails.
	key := make([]byte, newSecretLen)
	_, _ = rand.Read(key)
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// ParseSecret returns the HMAC key of secret: the standard base64 decoding
// of secret after an optional "whsec_" prefix. It returns an error wrapping
// [ErrSecret] if the text is not valid base64 or the key is shorter than 24
// or longer than 64 bytes.
func ParseSecret(secret string) ([]byte, error) {
	enc := strings.TrimPrefix(secret, SecretPrefix)
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: not standard base64 after the %q prefix", ErrSecret, SecretPrefix)
	}
	if len(key) < minSecretLen || len(key) > maxSecretLen {
		return nil, fmt.Errorf("%w: key is %d bytes, want %d to %d", ErrSecret, len(key), minSecretLen, maxSecretLen)
	}
	return key, nil
}

// Sign returns the webhook-signature header value for a delivery of body
// with the given id and timestamp, signed with secret: "v1," followed by the
// standard base64 encoding of HMAC-SHA256(key, id + "." + unixSeconds + "."
// + body), where key is ParseSecret(secret) and unixSeconds is
// timestamp.Unix() in decimal. The same timestamp, in the same decimal form,
// must be sent in the webhook-timestamp header.
//
// During secret rotation, sign with each secret and join the results with a
// single space.
func Sign(secret string, id string, timestamp time.Time, body []byte) (string, error) {
	key, err := ParseSecret(secret)
	if err != nil {
		return "", err
	}
	return sigVersion + "," + mac(key, id, strconv.FormatInt(timestamp.Unix(), 10), body), nil
}

// mac returns the base64 HMAC-SHA256 of the signed content, with timestamp
// as the decimal text sent in the webhook-timestamp header.
func mac(key []byte, id, timestamp string, body []byte) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// Verify checks that body and header are a genuine, fresh delivery signed
// with secret, returning nil if they are. It is [VerifyAt] with the current
// time.
func Verify(secret string, header http.Header, body []byte) error {
	return VerifyAt(secret, header, body, time.Now())
}

// VerifyAt checks a delivery against the clock reading now. It returns nil
// if the webhook-id, webhook-timestamp and webhook-signature headers are
// present, the timestamp is a decimal Unix time no more than [Tolerance]
// from now, and at least one of the space-separated "v1,…" entries of the
// signature header matches body under secret. Entries of other versions are
// ignored.
//
// Otherwise it returns an error wrapping [ErrSecret], [ErrMissingHeaders],
// [ErrTimestamp] or [ErrSignature], checked in that order.
func VerifyAt(secret string, header http.Header, body []byte, now time.Time) error {
	key, err := ParseSecret(secret)
	if err != nil {
		return err
	}
	id := headerValue(header, HeaderID)
	ts := headerValue(header, HeaderTimestamp)
	sigs := headerValue(header, HeaderSignature)
	var missing []string
	for _, h := range []struct{ name, value string }{
		{HeaderID, id}, {HeaderTimestamp, ts}, {HeaderSignature, sigs},
	} {
		if h.value == "" {
			missing = append(missing, h.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrMissingHeaders, strings.Join(missing, ", "))
	}

	unix, err := parseUnix(ts)
	if err != nil {
		return err
	}
	if err := checkFresh(unix, now); err != nil {
		return err
	}

	want := []byte(mac(key, id, ts, body))
	checked := 0
	for entry := range strings.SplitSeq(sigs, " ") {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != sigVersion {
			continue
		}
		checked++
		if hmac.Equal([]byte(sig), want) {
			return nil
		}
	}
	if checked == 0 {
		return fmt.Errorf("%w: no %s entry in the %s header", ErrSignature, sigVersion, HeaderSignature)
	}
	return fmt.Errorf("%w: none of %d %s entries matches", ErrSignature, checked, sigVersion)
}

// Parse verifies a delivery as [Verify] does and then decodes body into an
// [Event]. Unknown JSON fields are ignored, so that the API can add fields;
// unknown event types are returned as they are (see [Known]). Errors from
// verification wrap the sentinel errors of [VerifyAt]; a verified body that
// is not a JSON event gives an error wrapping none of them. Numbers in
// values of type any (a number custom field's value, Previous) decode as
// json.Number, exactly as the API sent them.
func Parse(secret string, header http.Header, body []byte) (*Event, error) {
	if err := Verify(secret, header, body); err != nil {
		return nil, err
	}
	ev := new(Event)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(ev); err != nil {
		return nil, fmt.Errorf("events: decoding event: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("events: decoding event: data after the event")
	}
	return ev, nil
}

// checkFresh returns an error wrapping ErrTimestamp unless the Unix time
// sent lies within Tolerance of now.
func checkFresh(sent int64, now time.Time) error {
	tooOld := fmt.Errorf("%w: sent more than %v ago", ErrTimestamp, Tolerance)
	tooNew := fmt.Errorf("%w: sent more than %v in the future", ErrTimestamp, Tolerance)
	// Screen out far-off values in whole seconds first, so that the Duration
	// arithmetic below cannot overflow. The differences are taken unsigned:
	// each is positive and below 2⁶⁴, so the subtraction is exact.
	const slack = uint64(Tolerance/time.Second) + 1
	nowUnix := now.Unix()
	if nowUnix > sent && uint64(nowUnix)-uint64(sent) > slack {
		return tooOld
	}
	if sent > nowUnix && uint64(sent)-uint64(nowUnix) > slack {
		return tooNew
	}
	age := now.Sub(time.Unix(sent, 0))
	if age > Tolerance {
		return tooOld
	}
	if age < -Tolerance {
		return tooNew
	}
	return nil
}

// headerValue returns the first value of the header name. If header has no
// such key in canonical form, as when it was built as a map by hand from
// lower-case names, it falls back to a case-insensitive search; if that
// finds two spellings with different values, it returns "": map order
// would pick one at random, and the receiver may read the other (as its
// idempotency key, say).
func headerValue(header http.Header, name string) string {
	if v := header.Get(name); v != "" {
		return v
	}
	found := ""
	for k, vs := range header {
		if len(vs) == 0 || vs[0] == "" || !strings.EqualFold(k, name) {
			continue
		}
		if found != "" && vs[0] != found {
			return ""
		}
		found = vs[0]
	}
	return found
}

// parseUnix parses a webhook-timestamp value: decimal digits only, no sign.
func parseUnix(s string) (int64, error) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: %q is not a decimal Unix time", ErrTimestamp, s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a decimal Unix time", ErrTimestamp, s)
	}
	return n, nil
}
