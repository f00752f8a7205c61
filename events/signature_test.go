package events_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acme/helpdesk/events"
)

// The signing example of the Standard Webhooks specification; the expected
// signature was checked independently with openssl.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// secretOf returns a prefixed secret whose key is n bytes of b.
func secretOf(b byte, n int) string {
	return "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(b), n)))
}

func TestNewSecret(t *testing.T) {
	s := events.NewSecret()
	enc, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		t.Fatalf("NewSecret() = %q, want the whsec_ prefix", s)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) != 32 {
		t.Fatalf("NewSecret() = %q: decodes to %d bytes, %v; want 32 bytes", s, len(key), err)
	}
	parsed, err := events.ParseSecret(s)
	if err != nil || string(parsed) != string(key) {
		t.Errorf("ParseSecret(NewSecret()) = %x, %v; want %x", parsed, err, key)
	}
	if other := events.NewSecret(); other == s {
		t.Errorf("NewSecret returned %q twice", s)
	}
}

func TestParseSecret(t *testing.T) {
	cases := []struct {
		name    string
		secret  string
		wantLen int // 0: want an error
	}{
		{"Prefixed", specSecret, 24},
		{"Unprefixed", strings.TrimPrefix(specSecret, "whsec_"), 24},
		{"32Bytes", secretOf('k', 32), 32},
		{"64Bytes", secretOf('k', 64), 64},
		{"Empty", "", 0},
		{"PrefixOnly", "whsec_", 0},
		{"23Bytes", secretOf('k', 23), 0},
		{"65Bytes", secretOf('k', 65), 0},
		{"NotBase64", "whsec_not base64!", 0},
		{"URLEncoding", "whsec_" + base64.URLEncoding.EncodeToString([]byte(strings.Repeat("\xff", 32))), 0},
		{"MissingPadding", strings.TrimRight(secretOf('k', 32), "="), 0},
		{"OtherPrefix", "whsek_" + strings.TrimPrefix(secretOf('k', 32), "whsec_"), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, err := events.ParseSecret(tc.secret)
			if tc.wantLen == 0 {
				if !errors.Is(err, events.ErrSecret) {
					t.Errorf("ParseSecret(%q) = %x, %v; want an error wrapping ErrSecret", tc.secret, key, err)
				}
				return
			}
			if err != nil || len(key) != tc.wantLen {
				t.Errorf("ParseSecret(%q) = %d bytes, %v; want %d bytes", tc.secret, len(key), err, tc.wantLen)
			}
		})
	}
}

func TestSignSpecVector(t *testing.T) {
	got, err := events.Sign(specSecret, specID, time.Unix(specTimestamp, 0), []byte(specBody))
	if err != nil || got != specSignature {
		t.Errorf("Sign = %q, %v; want %q", got, err, specSignature)
	}
	// Only whole seconds are signed.
	got, err = events.Sign(specSecret, specID, time.Unix(specTimestamp, 999_999_999).In(time.FixedZone("X", 3600)), []byte(specBody))
	if err != nil || got != specSignature {
		t.Errorf("Sign with sub-second time in another zone = %q, %v; want %q", got, err, specSignature)
	}
}

func TestSignBadSecret(t *testing.T) {
	for _, secret := range []string{"", "whsec_!!", secretOf('k', 10)} {
		if sig, err := events.Sign(secret, "evt_x", time.Now(), nil); !errors.Is(err, events.ErrSecret) || sig != "" {
			t.Errorf("Sign(%q) = %q, %v; want an error wrapping ErrSecret", secret, sig, err)
		}
	}
}

// delivery is a signed request's headers and body.
type delivery struct {
	header http.Header
	body   []byte
}

var (
	testSecret  = secretOf('a', 32)
	otherSecret = secretOf('b', 32)
	testNow     = time.Date(2026, 11, 25, 10, 0, 30, 250e6, time.UTC)
	testBody    = []byte(`{"id":"evt_5nwxwizwpweklajt7xyitgvzge","type":"ticket.deleted"}`)
)

// signed returns a delivery of body signed with secret at sent.
func signed(t *testing.T, secret string, sent time.Time, body []byte) delivery {
	t.Helper()
	sig, err := events.Sign(secret, "evt_5nwxwizwpweklajt7xyitgvzge", sent, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(events.HeaderID, "evt_5nwxwizwpweklajt7xyitgvzge")
	h.Set(events.HeaderTimestamp, strconv.FormatInt(sent.Unix(), 10))
	h.Set(events.HeaderSignature, sig)
	return delivery{h, body}
}

func TestVerifyAt(t *testing.T) {
	good := func(t *testing.T) delivery { return signed(t, testSecret, testNow, testBody) }
	cases := []struct {
		name   string
		secret string
		make   func(t *testing.T) delivery
		want   error // nil: accepted
	}{
		{"Valid", testSecret, good, nil},
		{"ValidUnprefixedSecret", strings.TrimPrefix(testSecret, "whsec_"), good, nil},
		{"TamperedBody", testSecret, func(t *testing.T) delivery {
			d := good(t)
			d.body = []byte(strings.Replace(string(d.body), "deleted", "created", 1))
			return d
		}, events.ErrSignature},
		{"TrailingNewlineAdded", testSecret, func(t *testing.T) delivery {
			d := good(t)
			d.body = append(d.body, '\n')
			return d
		}, events.ErrSignature},
		{"EmptyBody", testSecret, func(t *testing.T) delivery {
			d := good(t)
			d.body = nil
			return d
		}, events.ErrSignature},
		{"SignedEmptyBody", testSecret, func(t *testing.T) delivery { return signed(t, testSecret, testNow, nil) }, nil},
		{"WrongSecret", otherSecret, good, events.ErrSignature},
		{"TamperedID", testSecret, func(t *testing.T) delivery {
			d := good(t)
			d.header.Set(events.HeaderID, "evt_aaaaaaaaaaaaaaaaaaaaaaaaaa")
			return d
		}, events.ErrSignature},
		{"TamperedTimestamp", testSecret, func(t *testing.T) delivery {
			d := good(t)
			d.header.Set(events.HeaderTimestamp, strconv.FormatInt(testNow.Unix()+1, 10))
			return d
		}, events.ErrSignature},
		{"LeadingZeroTimestamp", testSecret, func(t *testing.T) delivery {
			d := good(t)
			d.header.Set(events.HeaderTimestamp, "0"+d.header.Get(events.HeaderTimestamp))
			return d
		}, events.ErrSignature},
		{"Old6Minutes", testSecret, func(t *testing.T) delivery {
			return signed(t, testSecret, testNow.Add(-6*time.Minute), testBody)
		}, events.ErrTimestamp},
		{"Future6Minutes", testSecret, func(t *testing.T) delivery {
			return signed(t, testSecret, testNow.Add(6*time.Minute), testBody)
		}, events.ErrTimestamp},
		{"Old4Minutes59", testSecret, func(t *testing.T) delivery {
			return signed(t, testSecret, testNow.Add(-4*time.Minute-59*time.Second), testBody)
		}, nil},
		{"Future4Minutes59", testSecret, func(t *testing.T) delivery {
			return signed(t, testSecret, testNow.Add(4*time.Minute+59*time.Second), testBody)
		}, nil},
		{"Old5Minutes1Second", testSecret, func(t *testing.T) delivery {
			return signed(t, testSecret, testNow.Add(-5*time.Minute-time.Second), testBody)
		}, events.ErrTimestamp},
		{"Future5Minutes1Second", testSecret, func(t *testing.T) delivery {
			return signed(t, testSecret, testNow.Add(5*time.Minute+time.Second), testBody)
		}, events.ErrTimestamp},
		{"FarFuture", testSecret, func(t *testing.T) delivery {
			d := good(t)
			d.header.Set(events.HeaderTimestamp, "9223372036854775807")
			return d
		}, events.ErrTimestamp},
		{"Zero", testSecret, func(t *testing.T) delivery {
			d := good(t)
			d.header.Set(events.HeaderTimestamp, "0")
			return d
		}, events.ErrTimestamp},
		{"MissingID", testSecret, withoutHeader(good, events.HeaderID), events.ErrMissingHeaders},
		{"MissingTimestamp", testSecret, withoutHeader(good, events.HeaderTimestamp), events.ErrMissingHeaders},
		{"MissingSignature", testSecret, withoutHeader(good, events.HeaderSignature), events.ErrMissingHeaders},
		{"NoHeaders", testSecret, func(t *testing.T) delivery { return delivery{nil, testBody} }, events.ErrMissingHeaders},
		{"EmptySignature", testSecret, withHeader(good, events.HeaderSignature, func(string) string { return "" }), events.ErrMissingHeaders},
		{"LowerCaseKeys", testSecret, func(t *testing.T) delivery {
			d := good(t)
			h := http.Header{}
			for k, v := range d.header {
				h[strings.ToLower(k)] = v
			}
			d.header = h
			return d
		}, nil},
		{"UpperCaseKeys", testSecret, func(t *testing.T) delivery {
			d := good(t)
			h := http.Header{}
			for k, v := range d.header {
				h[strings.ToUpper(k)] = v
			}
			d.header = h
			return d
		}, nil},
		{"TimestampNotNumber", testSecret, withHeader(good, events.HeaderTimestamp, func(string) string { return "yesterday" }), events.ErrTimestamp},
		{"TimestampFraction", testSecret, withHeader(good, events.HeaderTimestamp, func(s string) string { return s + ".5" }), events.ErrTimestamp},
		{"TimestampSigned", testSecret, withHeader(good, events.HeaderTimestamp, func(s string) string { return "+" + s }), events.ErrTimestamp},
		{"TimestampSpace", testSecret, withHeader(good, events.HeaderTimestamp, func(s string) string { return " " + s }), events.ErrTimestamp},
		{"TimestampMilliseconds", testSecret, withHeader(good, events.HeaderTimestamp, func(s string) string { return s + "000" }), events.ErrTimestamp},
		{"TimestampOverflow", testSecret, withHeader(good, events.HeaderTimestamp, func(string) string { return "99999999999999999999" }), events.ErrTimestamp},
		{"TimestampRFC3339", testSecret, withHeader(good, events.HeaderTimestamp, func(string) string { return testNow.Format(time.RFC3339) }), events.ErrTimestamp},
		{"BadThenGood", testSecret, withHeader(good, events.HeaderSignature, func(s string) string {
			return "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " + s
		}), nil},
		{"GoodThenBad", testSecret, withHeader(good, events.HeaderSignature, func(s string) string {
			return s + " v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
		}), nil},
		{"OtherSecretThenGood", testSecret, func(t *testing.T) delivery {
			d := good(t)
			other := signed(t, otherSecret, testNow, testBody).header.Get(events.HeaderSignature)
			d.header.Set(events.HeaderSignature, other+" "+d.header.Get(events.HeaderSignature))
			return d
		}, nil},
		{"OnlyOtherVersions", testSecret, withHeader(good, events.HeaderSignature, func(s string) string {
			mac := strings.TrimPrefix(s, "v1,")
			return "v1a," + mac + " v2," + mac + " V1," + mac
		}), events.ErrSignature},
		{"BareMAC", testSecret, withHeader(good, events.HeaderSignature, func(s string) string { return strings.TrimPrefix(s, "v1,") }), events.ErrSignature},
		{"TruncatedMAC", testSecret, withHeader(good, events.HeaderSignature, func(s string) string { return s[:len(s)-2] }), events.ErrSignature},
		{"MACNotBase64", testSecret, withHeader(good, events.HeaderSignature, func(s string) string {
			mac, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "v1,"))
			return "v1," + string(mac)
		}), events.ErrSignature},
		{"BadSecret", "whsec_short", good, events.ErrSecret},
	}
	sentinels := []error{events.ErrSecret, events.ErrMissingHeaders, events.ErrTimestamp, events.ErrSignature}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.make(t)
			err := events.VerifyAt(tc.secret, d.header, d.body, testNow)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("VerifyAt = %v, want nil", err)
				}
				return
			}
			for _, s := range sentinels {
				if errors.Is(err, s) != (s == tc.want) {
					t.Errorf("VerifyAt = %v; errors.Is(err, %q) = %t, want %t", err, s, errors.Is(err, s), s == tc.want)
				}
			}
		})
	}
}

func withoutHeader(make func(*testing.T) delivery, name string) func(*testing.T) delivery {
	return func(t *testing.T) delivery {
		d := make(t)
		d.header.Del(name)
		return d
	}
}

func withHeader(make func(*testing.T) delivery, name string, edit func(string) string) func(*testing.T) delivery {
	return func(t *testing.T) delivery {
		d := make(t)
		d.header.Set(name, edit(d.header.Get(name)))
		return d
	}
}

// TestVerifyAtTolerance checks the edges of the window: a timestamp exactly
// Tolerance away is accepted, a nanosecond more is not.
func TestVerifyAtTolerance(t *testing.T) {
	sent := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	d := signed(t, testSecret, sent, testBody)
	for _, tc := range []struct {
		now  time.Duration // after sent
		want error
	}{
		{0, nil},
		{events.Tolerance, nil},
		{-events.Tolerance, nil},
		{events.Tolerance + 1, events.ErrTimestamp},
		{-events.Tolerance - 1, events.ErrTimestamp},
	} {
		if err := events.VerifyAt(testSecret, d.header, d.body, sent.Add(tc.now)); !errors.Is(err, tc.want) {
			t.Errorf("VerifyAt at sent%+v = %v, want %v", tc.now, err, tc.want)
		}
	}
	if events.Tolerance != 5*time.Minute {
		t.Errorf("Tolerance = %v, want 5m", events.Tolerance)
	}
}

// TestVerifyAtHeadersByHand: headers in a map built by hand are found
// whatever their case, but two spellings of one header with different
// values count as neither, every time.
func TestVerifyAtHeadersByHand(t *testing.T) {
	d := signed(t, testSecret, testNow, testBody)
	byHand := func(ids ...string) http.Header {
		h := http.Header{"webhook-timestamp": d.header.Values(events.HeaderTimestamp), "WEBHOOK-SIGNATURE": d.header.Values(events.HeaderSignature)}
		for i, id := range ids {
			h[[]string{"webhook-id", "WEBHOOK-ID", "Webhook-ID"}[i]] = []string{id}
		}
		return h
	}
	id := d.header.Get(events.HeaderID)
	for _, tc := range []struct {
		name string
		h    http.Header
		want error
	}{
		{"LowerCase", byHand(id), nil},
		{"TwoSpellingsOneValue", byHand(id, id), nil},
		{"SecondSpellingEmpty", byHand(id, ""), nil},
		{"TwoValues", byHand(id, "evt_other"), events.ErrMissingHeaders},
		{"ThreeSpellings", byHand(id, id, "evt_other"), events.ErrMissingHeaders},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 { // map order varies; the answer must not
				if err := events.VerifyAt(testSecret, tc.h, d.body, testNow); !errors.Is(err, tc.want) || tc.want == nil && err != nil {
					t.Fatalf("VerifyAt = %v, want %v", err, tc.want)
				}
			}
		})
	}
}

// TestVerifyClock checks that Verify uses the real clock: a delivery signed
// now passes, one signed ten minutes ago does not.
func TestVerifyClock(t *testing.T) {
	d := signed(t, testSecret, time.Now(), testBody)
	if err := events.Verify(testSecret, d.header, d.body); err != nil {
		t.Errorf("Verify(signed now) = %v", err)
	}
	d = signed(t, testSecret, time.Now().Add(-10*time.Minute), testBody)
	if err := events.Verify(testSecret, d.header, d.body); !errors.Is(err, events.ErrTimestamp) {
		t.Errorf("Verify(signed 10 minutes ago) = %v, want ErrTimestamp", err)
	}
}

func TestParse(t *testing.T) {
	body := []byte(`{"id":"evt_5nwxwizwpweklajt7xyitgvzge","type":"ticket.updated","timestamp":"2026-11-25T10:42:17.456Z",` +
		`"data":{"ticket":{"id":"tkt_kokoknite3yzp7htixhgxn7w","status":"open","assigneeId":null,"tags":["a"],"futureField":1,` +
		`"customFields":[{"id":"cf_a","value":12345678901234567890123}]},` +
		`"previous":{"status":"new","customFields":[{"id":"cf_a","value":1.50}]}},"futureTopLevel":true}`)
	d := signed(t, testSecret, time.Now(), body)
	ev, err := events.Parse(testSecret, d.header, d.body)
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	if ev.ID != "evt_5nwxwizwpweklajt7xyitgvzge" || ev.Type != events.TicketUpdated ||
		!ev.Timestamp.Equal(time.Date(2026, 11, 25, 10, 42, 17, 456e6, time.UTC)) ||
		ev.Data.Ticket.ID != "tkt_kokoknite3yzp7htixhgxn7w" || ev.Data.Ticket.Status != "open" ||
		ev.Data.Ticket.AssigneeID != nil || len(ev.Data.Ticket.Tags) != 1 || ev.Data.Previous["status"] != "new" {
		t.Errorf("Parse = %+v", ev)
	}
	// Numbers stay as sent, not the nearest float64.
	if v := ev.Data.Ticket.CustomFields[0].Value; v != json.Number("12345678901234567890123") {
		t.Errorf("custom field value %#v", v)
	}
	if v := ev.Data.Previous["customFields"].([]any)[0].(map[string]any)["value"]; v != json.Number("1.50") {
		t.Errorf("previous custom field value %#v", v)
	}

	// Verification comes first: a tampered body is not decoded.
	ev, err = events.Parse(testSecret, d.header, append([]byte(nil), body[:len(body)-1]...))
	if ev != nil || !errors.Is(err, events.ErrSignature) {
		t.Errorf("Parse(tampered) = %v, %v; want nil, ErrSignature", ev, err)
	}
	ev, err = events.Parse(otherSecret, d.header, body)
	if ev != nil || !errors.Is(err, events.ErrSignature) {
		t.Errorf("Parse(wrong secret) = %v, %v; want nil, ErrSignature", ev, err)
	}
	old := signed(t, testSecret, time.Now().Add(-6*time.Minute), body)
	if ev, err := events.Parse(testSecret, old.header, old.body); ev != nil || !errors.Is(err, events.ErrTimestamp) {
		t.Errorf("Parse(old) = %v, %v; want nil, ErrTimestamp", ev, err)
	}

	// A genuine body that is not an event is an error of its own kind.
	for _, bad := range []string{`not json`, `{"id": 42}`, `{"id":"evt_x"} {}`, `[]`} {
		d := signed(t, testSecret, time.Now(), []byte(bad))
		ev, err := events.Parse(testSecret, d.header, d.body)
		if ev != nil || err == nil {
			t.Errorf("Parse(%s) = %v, %v; want an error", bad, ev, err)
			continue
		}
		for _, s := range []error{events.ErrSecret, events.ErrMissingHeaders, events.ErrTimestamp, events.ErrSignature} {
			if errors.Is(err, s) {
				t.Errorf("Parse(%s) = %v, wraps %v", bad, err, s)
			}
		}
	}
}
