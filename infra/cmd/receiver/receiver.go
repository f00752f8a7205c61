package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/acme/helpdesk/events"
)

// maxBody bounds what the receiver reads of a delivery; the API's events
// are far smaller.
const maxBody = 1 << 20

// receiver prints the deliveries it is sent and answers them.
type receiver struct {
	secret string // the subscription's secret; signatures unchecked when empty
	fail   int    // attempts of each delivery answered 500 before one succeeds
	body   bool   // print each delivery's body too
	out    io.Writer
	now    func() time.Time

	mu       sync.Mutex
	attempts map[string]int // by webhook-id: retries reuse it
}

// ServeHTTP prints one delivery's line and answers it: 401 when its
// signature does not verify, 500 while it is among the first attempts the
// receiver was told to fail, 204 otherwise.
func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := rc.now().UTC()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	id := r.Header.Get(events.HeaderID)
	attempt := rc.attempt(id)
	var ev struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(body, &ev) != nil || ev.Type == "" {
		ev.Type = "(no event type)"
	}
	verdict, status := "signature not checked (no -secret)", http.StatusNoContent
	if rc.secret != "" {
		if err := events.Verify(rc.secret, r.Header, body); err != nil {
			verdict, status = "signature REJECTED: "+err.Error(), http.StatusUnauthorized
		} else {
			verdict = "signature verified"
		}
	}
	if status == http.StatusNoContent && attempt <= rc.fail {
		status = http.StatusInternalServerError
		verdict += fmt.Sprintf("; failing it as asked (-fail %d)", rc.fail)
	}
	fmt.Fprintf(rc.out, "%s  %s  %s  attempt %d  %s  -> %d\n", arrived.Format(time.RFC3339Nano), id, ev.Type, attempt, verdict, status)
	if rc.body {
		fmt.Fprintf(rc.out, "%s\n", body)
	}
	w.WriteHeader(status)
}

// attempt counts one more attempt of the delivery id and returns its
// number, 1 for the first.
func (rc *receiver) attempt(id string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.attempts == nil {
		rc.attempts = map[string]int{}
	}
	rc.attempts[id]++
	return rc.attempts[id]
}
