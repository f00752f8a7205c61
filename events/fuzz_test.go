package events_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acme/helpdesk/events"
)

// sentinels are the errors VerifyAt wraps, in the order it checks them.
var sentinels = []error{events.ErrSecret, events.ErrMissingHeaders, events.ErrTimestamp, events.ErrSignature}

// verdict states, without the package, what VerifyAt answers: nil or the
// sentinel it must wrap. The signature is the Standard Webhooks one:
// "v1," and the base64 HMAC-SHA256 of id.timestamp.body, the timestamp as
// sent.
func verdict(secret, id, ts, sigs string, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) < 24 || len(key) > 64 {
		return events.ErrSecret
	}
	if id == "" || ts == "" || sigs == "" {
		return events.ErrMissingHeaders
	}
	if strings.Trim(ts, "0123456789") != "" {
		return events.ErrTimestamp
	}
	sent, ok := new(big.Int).SetString(ts, 10)
	if !ok || !sent.IsInt64() {
		return events.ErrTimestamp
	}
	// now - sent in nanoseconds, exactly.
	age := new(big.Int).Sub(big.NewInt(now.Unix()), sent)
	age.Mul(age, big.NewInt(int64(time.Second))).Add(age, big.NewInt(int64(now.Nanosecond())))
	if age.CmpAbs(big.NewInt(int64(events.Tolerance))) > 0 {
		return events.ErrTimestamp
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Split(sigs, " ") {
		if s == want {
			return nil
		}
	}
	return events.ErrSignature
}

// FuzzVerifyAt verifies arbitrary deliveries: secrets, header values,
// bodies and clocks. Verify, VerifyAt and Parse must never panic,
// ParseSecret must decode exactly the secrets verdict takes, and VerifyAt
// must give verdict's answer, with the same result every time. Headers
// are set as net/http does, or written by hand in lower case (as a Lambda
// event holds them), then possibly beside a second spelling of the id
// header, which counts only if it agrees with the first or the first is
// empty.
func FuzzVerifyAt(f *testing.F) {
	id, ts := "evt_5nwxwizwpweklajt7xyitgvzge", strconv.FormatInt(testNow.Unix(), 10)
	sig, err := events.Sign(testSecret, id, testNow, testBody)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(testSecret, id, ts, sig, testBody, testNow.Unix(), uint32(testNow.Nanosecond()), false, "")
	f.Add(testSecret, id, ts, "v2,x "+sig, testBody, testNow.Unix()+300, uint32(0), true, "")
	f.Add(testSecret, id, "0"+ts, sig, testBody, testNow.Unix()-300, uint32(1), true, "evt_other")
	f.Add(specSecret, specID, strconv.Itoa(specTimestamp), specSignature, []byte(specBody), int64(specTimestamp), uint32(0), false, "")
	f.Add("whsec_", "", "-1", "v1,", []byte{}, int64(-1<<63), uint32(999_999_999), true, "x")
	f.Add(otherSecret, id, "99999999999999999999", sig, testBody, int64(1<<62), uint32(0), false, "")
	f.Fuzz(func(t *testing.T, secret, id, ts, sigs string, body []byte, nowSec int64, nowNanos uint32, byHand bool, otherID string) {
		now := time.Unix(nowSec, int64(nowNanos%1_000_000_000))
		h := http.Header{}
		if byHand {
			h = http.Header{"webhook-id": {id}, "webhook-timestamp": {ts}, "webhook-signature": {sigs}}
			if otherID != "" {
				h["WEBHOOK-ID"] = []string{otherID}
			}
		} else {
			h.Set(events.HeaderID, id)
			h.Set(events.HeaderTimestamp, ts)
			h.Set(events.HeaderSignature, sigs)
		}
		err := events.VerifyAt(secret, h, body, now)
		for range 3 {
			if again := events.VerifyAt(secret, h, body, now); (again == nil) != (err == nil) || again != nil && again.Error() != err.Error() {
				t.Fatalf("VerifyAt gave %v, then %v", err, again)
			}
		}
		_, _ = events.Parse(secret, h, body)
		_ = events.Verify(secret, h, body)
		key, kerr := events.ParseSecret(secret)
		wantKey, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if wantSecret := verdict(secret, "", "", "", nil, now); (kerr != nil) != (wantSecret == events.ErrSecret) ||
			kerr != nil && !errors.Is(kerr, events.ErrSecret) || kerr == nil && !bytes.Equal(key, wantKey) {
			t.Fatalf("ParseSecret(%q) = %x, %v", secret, key, kerr)
		}
		if byHand && otherID != "" {
			switch {
			case id == "":
				id = otherID // the only spelling with a value
			case otherID != id:
				id = "" // two spellings, two values: neither counts
			}
		}
		want := verdict(secret, id, ts, sigs, body, now)
		switch {
		case want == nil && err != nil:
			t.Fatalf("VerifyAt refused a genuine fresh delivery: %v", err)
		case want != nil && !errors.Is(err, want):
			t.Fatalf("VerifyAt = %v, want an error wrapping %v", err, want)
		}
		for _, s := range sentinels {
			if err != nil && s != want && errors.Is(err, s) {
				t.Fatalf("VerifyAt = %v wraps %v as well as %v", err, s, want)
			}
		}
	})
}

// FuzzSign signs arbitrary bodies for arbitrary ids and times with keys
// of every length. What Sign signs, VerifyAt accepts within Tolerance of
// the time signed and refuses outside it; a rotation header holding it
// beside another signature is accepted too; and a change to the id, the
// timestamp's text, the body, the signature or the key is refused.
// Parse, at the current time, returns what encoding/json decodes.
func FuzzSign(f *testing.F) {
	f.Add([]byte(strings.Repeat("a", 32)), true, "evt_5nwxwizwpweklajt7xyitgvzge", int64(1_764_064_830), int64(0), testBody, uint(3), byte(1))
	f.Add([]byte(strings.Repeat("k", 24)), false, "msg_1", int64(0), int64(events.Tolerance), []byte(`{}`), uint(0), byte(0x80))
	f.Add([]byte(strings.Repeat("k", 64)), true, "id.with.dots", int64(1<<40), -int64(events.Tolerance)-1, []byte(""), uint(7), byte(0xff))
	f.Add([]byte("short"), true, "x", int64(-5), int64(0), []byte("x"), uint(0), byte(0))
	f.Fuzz(func(t *testing.T, key []byte, prefixed bool, id string, sent, offset int64, body []byte, at uint, flip byte) {
		if sent >= 0 {
			// Far enough from the end of time.Time that adding the offset
			// cannot overflow it.
			sent &= 1<<62 - 1
		}
		secret := base64.StdEncoding.EncodeToString(key)
		if prefixed {
			secret = "whsec_" + secret
		}
		sig, err := events.Sign(secret, id, time.Unix(sent, 0), body)
		parsed, perr := events.ParseSecret(secret)
		if len(key) < 24 || len(key) > 64 {
			if !errors.Is(err, events.ErrSecret) || !errors.Is(perr, events.ErrSecret) {
				t.Fatalf("a %d-byte key: Sign %v, ParseSecret %v; want ErrSecret", len(key), err, perr)
			}
			return
		}
		if err != nil || perr != nil || !reflect.DeepEqual(parsed, key) {
			t.Fatalf("Sign = %v; ParseSecret = %x, %v; want the key %x", err, parsed, perr, key)
		}
		if mac, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "v1,")); !strings.HasPrefix(sig, "v1,") || err != nil || len(mac) != sha256.Size {
			t.Fatalf("signature %q is not v1, and a base64 HMAC-SHA256", sig)
		}
		ts := strconv.FormatInt(sent, 10)
		if flip&0x80 == 0 {
			// Mostly offsets of a few tolerances either way.
			offset %= int64(3 * events.Tolerance)
		}
		verify := func(id, ts, sigs string, body []byte, secret string) error {
			h := http.Header{}
			h.Set(events.HeaderID, id)
			h.Set(events.HeaderTimestamp, ts)
			h.Set(events.HeaderSignature, sigs)
			return events.VerifyAt(secret, h, body, time.Unix(sent, 0).Add(time.Duration(offset)))
		}
		err = verify(id, ts, sig, body, secret)
		fresh := offset >= -int64(events.Tolerance) && offset <= int64(events.Tolerance)
		switch {
		case id == "":
			if !errors.Is(err, events.ErrMissingHeaders) {
				t.Fatalf("no id: %v", err)
			}
			return
		case sent < 0:
			// Sign writes a minus sign, which VerifyAt refuses: the
			// specification's timestamps are positive.
			if !errors.Is(err, events.ErrTimestamp) {
				t.Fatalf("negative timestamp: %v", err)
			}
			return
		case !fresh:
			if !errors.Is(err, events.ErrTimestamp) {
				t.Fatalf("sent %v off the clock: %v, want ErrTimestamp", time.Duration(offset), err)
			}
			return
		case err != nil:
			t.Fatalf("VerifyAt refused what Sign signed, %v off: %v", time.Duration(offset), err)
		}
		other := "v1," + base64.StdEncoding.EncodeToString(make([]byte, sha256.Size))
		for _, sigs := range []string{other + " " + sig, sig + " " + other, "v2," + strings.TrimPrefix(sig, "v1,") + " " + sig} {
			if err := verify(id, ts, sigs, body, secret); err != nil {
				t.Fatalf("rotation header %q refused: %v", sigs, err)
			}
		}
		changedBody := append([]byte(nil), body...)
		if len(body) == 0 {
			changedBody = []byte{flip}
		} else {
			changedBody[at%uint(len(body))] ^= flip | 1
		}
		changedSig := []byte(sig)
		changedSig[3+at%uint(len(sig)-3)] ^= 1
		changedKey := append([]byte(nil), key...)
		changedKey[at%uint(len(key))] ^= flip | 1
		for name, tc := range map[string]struct {
			id, ts, sig string
			body        []byte
			secret      string
		}{
			"id":        {id + string(rune(flip)), ts, sig, body, secret},
			"timestamp": {id, "0" + ts, sig, body, secret},
			"body":      {id, ts, sig, changedBody, secret},
			"signature": {id, ts, string(changedSig), body, secret},
			"key":       {id, ts, sig, body, base64.StdEncoding.EncodeToString(changedKey)},
			"version":   {id, ts, "v2," + strings.TrimPrefix(sig, "v1,"), body, secret},
		} {
			if err := verify(tc.id, tc.ts, tc.sig, tc.body, tc.secret); !errors.Is(err, events.ErrSignature) {
				t.Fatalf("a changed %s: VerifyAt = %v, want ErrSignature", name, err)
			}
		}
		if err := verify(id, strconv.FormatInt(sent+1, 10), sig, body, secret); err == nil {
			t.Fatal("a later timestamp with the same signature was accepted")
		}

		now := time.Now()
		live, err := events.Sign(secret, id, now, body)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(events.HeaderID, id)
		h.Set(events.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(events.HeaderSignature, live)
		ev, err := events.Parse(secret, h, body)
		var want events.Event
		switch jerr := json.Unmarshal(body, &want); {
		case jerr == nil && (err != nil || !reflect.DeepEqual(*ev, want)):
			t.Fatalf("Parse = %+v, %v; want %+v", ev, err, want)
		case jerr != nil && err == nil:
			t.Fatalf("Parse decoded %q, which encoding/json refuses: %v", body, jerr)
		case jerr != nil && wrapsSentinel(err):
			t.Fatalf("Parse of a verified body that is no event = %v, which wraps a verification error", err)
		}
	})
}

// wrapsSentinel reports whether err wraps one of the sentinels.
func wrapsSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
