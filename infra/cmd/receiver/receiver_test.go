package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acme/helpdesk/events"
)

// TestReceiver sends signed deliveries to a real server running the
// receiver and reads what it printed and answered.
func TestReceiver(t *testing.T) {
	secret := events.NewSecret()
	arrived := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	rc := &receiver{secret: secret, fail: 2, out: &out, now: func() time.Time { return arrived }}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	send := func(id, signWith string) int {
		t.Helper()
		body := []byte(`{"id":"` + id + `","type":"ticket.created","data":{}}`)
		now := time.Now()
		sig, err := events.Sign(signWith, id, now, body)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set(events.HeaderID, id)
		req.Header.Set(events.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(events.HeaderSignature, sig)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	var got []int
	for range 3 {
		got = append(got, send("evt_a", secret))
	}
	got = append(got, send("evt_b", secret), send("evt_c", events.NewSecret()))
	want := []int{500, 500, 204, 500, 401}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	}
	printed := out.String()
	for _, line := range []string{
		"2026-12-02T10:00:00Z  evt_a  ticket.created  attempt 1  signature verified; failing it as asked (-fail 2)  -> 500",
		"2026-12-02T10:00:00Z  evt_a  ticket.created  attempt 3  signature verified  -> 204",
		"2026-12-02T10:00:00Z  evt_b  ticket.created  attempt 1  signature verified; failing it as asked (-fail 2)  -> 500",
		"2026-12-02T10:00:00Z  evt_c  ticket.created  attempt 1  signature REJECTED: ",
	} {
		if !strings.Contains(printed, line) {
			t.Errorf("output lacks %q:\n%s", line, printed)
		}
	}
}
