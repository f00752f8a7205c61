package httpapi_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
)

func ifMatch(tags ...string) http.Header { return http.Header{"If-Match": tags} }

func TestETagsAndIfMatch(t *testing.T) {
	e, _ := newAPI(t)
	write := e.keys[helpdesk.PermWrite]
	created := e.do("POST", base+"/tickets", helpdesk.PermWrite, `{"ticket": {"subject": "x"}}`)
	created.want(t, http.StatusCreated, "")
	id := created.ticket(t)["id"].(string)
	path := base + "/tickets/" + id
	if tag := created.header.Get("ETag"); tag != `"1"` {
		t.Fatalf("create ETag %q, want \"1\"", tag)
	}
	get := func() response {
		t.Helper()
		res := e.do("GET", path, helpdesk.PermRead, nil)
		res.want(t, http.StatusOK, "")
		return res
	}
	put := func(h http.Header, subject string) response {
		t.Helper()
		return e.doHeader("PUT", path, write, h, map[string]any{"ticket": map[string]any{"subject": subject}})
	}
	if tag := get().header.Get("ETag"); tag != `"1"` {
		t.Fatalf("GET ETag %q, want \"1\"", tag)
	}

	t.Run("Matching", func(t *testing.T) {
		res := put(ifMatch(`"1"`), "second")
		res.want(t, http.StatusOK, "")
		if res.header.Get("ETag") != `"2"` || get().header.Get("ETag") != `"2"` {
			t.Fatalf("after a matching PUT: ETag %q", res.header.Get("ETag"))
		}
	})
	t.Run("Stale", func(t *testing.T) {
		put(ifMatch(`"1"`), "lost").want(t, http.StatusPreconditionFailed, helpdesk.CodePreconditionFailed)
		if s := get().ticket(t)["subject"]; s != "second" {
			t.Fatalf("a rejected PUT changed the subject to %v", s)
		}
	})
	t.Run("OneOfAList", func(t *testing.T) {
		put(ifMatch(`"9", "2"`), "third").want(t, http.StatusOK, "")
		put(ifMatch(`"1"`, `"3"`), "fourth").want(t, http.StatusOK, "") // two header lines form one list
	})
	t.Run("WeakNeverMatches", func(t *testing.T) {
		put(ifMatch(`W/"4"`), "weak").want(t, http.StatusPreconditionFailed, helpdesk.CodePreconditionFailed)
	})
	t.Run("NotAVersion", func(t *testing.T) {
		put(ifMatch(`"abc"`), "odd").want(t, http.StatusPreconditionFailed, helpdesk.CodePreconditionFailed)
	})
	t.Run("Star", func(t *testing.T) {
		put(ifMatch(`*`), "fifth").want(t, http.StatusOK, "")
	})
	for name, v := range map[string]string{
		"Unquoted": `4`, "Unclosed": `"4`, "Empty": ``, "OnlyCommas": ` , `, "StarAndTag": `*, "4"`,
		"Trailing": `"4" x`, "Space": `"4 5"`,
	} {
		t.Run("Malformed"+name, func(t *testing.T) {
			put(ifMatch(v), "bad").want(t, http.StatusBadRequest, helpdesk.CodeBadRequest, "If-Match")
		})
	}
	t.Run("MissingTicket", func(t *testing.T) {
		e.doHeader("PUT", base+"/tickets/tkt_missing", write, ifMatch(`"1"`), `{"ticket": {"subject": "x"}}`).
			want(t, http.StatusNotFound, helpdesk.CodeNotFound)
		e.doHeader("DELETE", base+"/tickets/tkt_missing", write, ifMatch(`"1"`), nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	})
	t.Run("Delete", func(t *testing.T) {
		e.doHeader("DELETE", path, write, ifMatch(`"1"`), nil).want(t, http.StatusPreconditionFailed, helpdesk.CodePreconditionFailed)
		e.doHeader("DELETE", path, write, ifMatch(`W/"5"`), nil).want(t, http.StatusPreconditionFailed, helpdesk.CodePreconditionFailed)
		get()
		e.doHeader("DELETE", path, write, ifMatch(`"5"`), nil).want(t, http.StatusNoContent, "")
		e.do("GET", path, helpdesk.PermRead, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	})
}

// TestConcurrentIfMatch races PUTs that all carry the same ETag: exactly
// one wins, the others are told the ticket changed.
func TestConcurrentIfMatch(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
	const n = 12
	status := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			status[i] = e.doHeader("PUT", base+"/tickets/"+id, e.keys[helpdesk.PermWrite], ifMatch(`"1"`),
				map[string]any{"ticket": map[string]any{"requesterName": string(rune('A' + i))}}).status
		})
	}
	wg.Wait()
	wins, winner := 0, -1
	for i, s := range status {
		switch s {
		case http.StatusOK:
			wins++
			winner = i
		case http.StatusPreconditionFailed:
		default:
			t.Fatalf("PUT %d answered %d", i, s)
		}
	}
	if wins != 1 {
		t.Fatalf("%d PUTs with the same ETag succeeded, want exactly 1 (%v)", wins, status)
	}
	final := e.do("GET", base+"/tickets/"+id, helpdesk.PermRead, nil)
	if final.header.Get("ETag") != `"2"` || final.ticket(t)["requesterName"] != string(rune('A'+winner)) {
		t.Fatalf("final ticket %s with ETag %s, want the winner's change at version 2", final.raw, final.header.Get("ETag"))
	}
}
