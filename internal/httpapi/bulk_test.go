package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
)

// bulkResults decodes the results of a bulk answer.
func bulkResults(tb testing.TB, res response) []map[string]any {
	tb.Helper()
	res.want(tb, http.StatusOK, "")
	list, ok := res.body["results"].([]any)
	if !ok {
		tb.Fatalf("no results in %s", res.raw)
	}
	out := make([]map[string]any, len(list))
	for i, r := range list {
		out[i] = r.(map[string]any)
	}
	return out
}

// tagsOf is a ticket's tags as a string, e.g. "[a b]".
func tagsOf(tk map[string]any) string { return fmt.Sprint(tk["tags"]) }

func TestUpdateMany(t *testing.T) {
	e, _ := newAPI(t)
	a := e.createTicket(map[string]any{"subject": "a", "tags": []string{"new", "printer"}})["id"].(string)
	b := e.createTicket(map[string]any{"subject": "b"})["id"].(string)
	full := e.createTicket(map[string]any{"subject": "full", "tags": tagsN(helpdesk.MaxTags)})["id"].(string)
	missing := "tkt_" + strings.Repeat("q", 24)
	res := e.do("POST", base+"/tickets/update_many", helpdesk.PermWrite, map[string]any{
		"ids":    []string{a, missing, full, b},
		"ticket": map[string]any{"priority": "high", "addTags": []string{"vip"}, "removeTags": []string{"new"}},
	})
	results := bulkResults(t, res)
	if len(results) != 4 || res.body["ticketsOmitted"] != false {
		t.Fatalf("answer %s", res.raw)
	}
	for i, want := range []struct {
		id     string
		status float64
		code   string
	}{{a, 200, ""}, {missing, 404, "NOT_FOUND"}, {full, 422, "VALIDATION_ERROR"}, {b, 200, ""}} {
		r := results[i]
		if r["id"] != want.id || r["status"] != want.status {
			t.Fatalf("result %d = %v, want %s %v", i, r, want.id, want.status)
		}
		if want.code == "" {
			tk := r["ticket"].(map[string]any)
			if tk["priority"] != "high" || r["error"] != nil {
				t.Errorf("result %d: %v", i, r)
			}
			continue
		}
		if r["ticket"] != nil || r["error"].(map[string]any)["code"] != want.code {
			t.Errorf("result %d: %v, want error %s", i, r, want.code)
		}
	}
	if !strings.Contains(string(res.raw), `"field":"ticket.addTags"`) {
		t.Errorf("the 422 does not name ticket.addTags: %v", results[2]["error"])
	}
	// Each ticket is as a PUT would leave it; the refused one unchanged.
	for id, want := range map[string]string{a: "[printer vip]", b: "[vip]"} {
		tk := e.do("GET", base+"/tickets/"+id, helpdesk.PermRead, nil).ticket(t)
		if tagsOf(tk) != want || tk["priority"] != "high" {
			t.Errorf("%s: tags %v priority %v, want %s high", id, tk["tags"], tk["priority"], want)
		}
	}
	if tk := e.do("GET", base+"/tickets/"+full, helpdesk.PermRead, nil).ticket(t); tk["priority"] != "normal" || len(tk["tags"].([]any)) != helpdesk.MaxTags {
		t.Errorf("the refused ticket changed: %v", tk)
	}
	t.Run("NoChangeWritesNothing", func(t *testing.T) {
		before := e.do("GET", base+"/tickets/"+a, helpdesk.PermRead, nil)
		again := bulkResults(t, e.do("POST", base+"/tickets/update_many", helpdesk.PermWrite, map[string]any{
			"ids": []string{a}, "ticket": map[string]any{"addTags": []string{"vip", "printer"}, "removeTags": []string{"absent"}},
		}))
		if got := again[0]["ticket"].(map[string]any); got["updatedAt"] != before.ticket(t)["updatedAt"] {
			t.Fatalf("a bulk update that changes nothing moved updatedAt: %v", got)
		}
		if after := e.do("GET", base+"/tickets/"+a, helpdesk.PermRead, nil); after.header.Get("ETag") != before.header.Get("ETag") {
			t.Fatalf("ETag %s -> %s: a no-op wrote", before.header.Get("ETag"), after.header.Get("ETag"))
		}
	})
}

// tagsN returns n distinct tags.
func tagsN(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("t%d", i)
	}
	return out
}

func TestUpdateManyRefusedWhole(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
	before := e.do("GET", base+"/tickets/"+id, helpdesk.PermRead, nil).raw
	many := make([]string, helpdesk.MaxBulkIDs+1)
	for i := range many {
		many[i] = fmt.Sprintf("tkt_%s%s", strings.Repeat("a", i/20+1), strings.Repeat("b", i%20+1))
	}
	cases := []struct {
		name   string
		header http.Header
		body   string
		status int
		code   helpdesk.Code
		fields []string
	}{
		{"NotJSON", nil, `{"ids": [`, 400, helpdesk.CodeBadRequest, nil},
		{"NoTicket", nil, `{"ids": ["` + id + `"]}`, 400, helpdesk.CodeBadRequest, nil},
		{"NoIDs", nil, `{"ticket": {"status": "open"}}`, 422, helpdesk.CodeValidation, []string{"ids"}},
		{"IDsNotArray", nil, `{"ids": "` + id + `", "ticket": {"status": "open"}}`, 422, helpdesk.CodeValidation, []string{"ids"}},
		{"Empty", nil, `{"ids": [], "ticket": {"status": "open"}}`, 422, helpdesk.CodeValidation, []string{"ids"}},
		{"TooMany", nil, `{"ids": ["` + strings.Join(many, `","`) + `"], "ticket": {"status": "open"}}`, 422, helpdesk.CodeValidation, []string{"ids"}},
		{"DuplicateAndMalformed", nil, `{"ids": ["` + id + `", 7, "nope", "` + id + `"], "ticket": {"status": "open"}}`, 422, helpdesk.CodeValidation, []string{"ids[1]", "ids[2]", "ids[3]"}},
		{"BadTicketField", nil, `{"ids": ["` + id + `"], "ticket": {"status": "shut", "id": "x"}}`, 422, helpdesk.CodeValidation, []string{"ticket.id", "ticket.status"}},
		{"TagsWithEdits", nil, `{"ids": ["` + id + `"], "ticket": {"tags": ["a"], "addTags": ["b"]}}`, 422, helpdesk.CodeValidation, []string{"ticket.addTags"}},
		{"AddedAndRemoved", nil, `{"ids": ["` + id + `"], "ticket": {"addTags": ["b"], "removeTags": [" b"]}}`, 422, helpdesk.CodeValidation, []string{"ticket.removeTags[0]"}},
		{"UnknownMember", nil, `{"ids": ["` + id + `"], "ticket": {"status": "open"}, "dryRun": true}`, 422, helpdesk.CodeValidation, []string{"dryRun"}},
		{"IfMatch", http.Header{"If-Match": {`"1"`}}, `{"ids": ["` + id + `"], "ticket": {"status": "open"}}`, 400, helpdesk.CodeBadRequest, []string{"If-Match"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.doHeader("POST", base+"/tickets/update_many", e.keys[helpdesk.PermWrite], tc.header, tc.body).want(t, tc.status, tc.code, tc.fields...)
			if after := e.do("GET", base+"/tickets/"+id, helpdesk.PermRead, nil).raw; !bytes.Equal(after, before) {
				t.Fatalf("a refused request wrote: %s -> %s", before, after)
			}
		})
	}
	t.Run("ReadKey", func(t *testing.T) {
		e.do("POST", base+"/tickets/update_many", helpdesk.PermRead, `{"ids": ["`+id+`"], "ticket": {}}`).want(t, http.StatusForbidden, helpdesk.CodeForbidden)
	})
	t.Run("OtherMethods", func(t *testing.T) {
		// update_many has the shape of no ticket id: a GET is the get
		// route's 404; a method no route of either path takes is 405.
		e.do("GET", base+"/tickets/update_many", helpdesk.PermRead, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
		res := e.do("PATCH", base+"/tickets/update_many", helpdesk.PermWrite, nil)
		res.want(t, http.StatusMethodNotAllowed, helpdesk.CodeMethodNotAllowed)
		if allow := res.header.Get("Allow"); allow != "GET, HEAD, PUT, POST, DELETE" {
			t.Fatalf("Allow %q", allow)
		}
	})
}

func TestCreateRefusesTagEdits(t *testing.T) {
	e, _ := newAPI(t)
	e.do("POST", base+"/tickets", helpdesk.PermWrite, `{"ticket": {"subject": "s", "addTags": ["a"], "removeTags": ["b"]}}`).
		want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "ticket.addTags", "ticket.removeTags")
}

// TestConcurrentTagAdds checks that PUTs adding different tags to one
// ticket at once all keep theirs: each edit is applied to the ticket as
// stored, inside the conditional write's retry. None may answer 409: a
// writer's attempt fails only when another writer's write lands, each of
// the others lands once, so no writer fails more than writers-1 times, and
// the store makes 8 attempts.
func TestConcurrentTagAdds(t *testing.T) {
	e, _ := newAPI(t)
	id := e.createTicket(map[string]any{"subject": "x", "tags": []string{"first"}})["id"].(string)
	const writers = 8
	var wg sync.WaitGroup
	status := make([]int, writers)
	for i := range writers {
		wg.Go(func() {
			status[i] = e.do("PUT", base+"/tickets/"+id, helpdesk.PermWrite, map[string]any{"ticket": map[string]any{"addTags": []string{fmt.Sprintf("w%d", i)}}}).status
		})
	}
	wg.Wait()
	final := e.do("GET", base+"/tickets/"+id, helpdesk.PermRead, nil).ticket(t)
	var tags []string
	for _, tag := range final["tags"].([]any) {
		tags = append(tags, tag.(string))
	}
	if tags[0] != "first" || len(tags) != writers+1 {
		t.Errorf("tags %q, want first and one per writer", tags)
	}
	for i, s := range status {
		if s != http.StatusOK || !slices.Contains(tags, fmt.Sprintf("w%d", i)) {
			t.Errorf("writer %d answered %d; tags %q", i, s, tags)
		}
	}
	if final["updatedAt"] == final["createdAt"] || e.do("GET", base+"/tickets/"+id, helpdesk.PermRead, nil).header.Get("ETag") != fmt.Sprintf(`"%d"`, writers+1) {
		t.Errorf("want %d writes after the create: %v", writers, final)
	}
}

func TestUpdateManyIdempotent(t *testing.T) {
	e, _ := newAPI(t)
	write := e.keys[helpdesk.PermWrite]
	a := e.createTicket(map[string]any{"subject": "a"})["id"].(string)
	b := e.createTicket(map[string]any{"subject": "b"})["id"].(string)
	body := `{"ids": ["` + a + `", "` + b + `"], "ticket": {"addTags": ["once"]}}`
	first := e.doHeader("POST", base+"/tickets/update_many", write, withKey("bulk-1"), body)
	first.want(t, http.StatusOK, "")
	// Moved on since: a replay answers what the first request did.
	e.do("PUT", base+"/tickets/"+a, helpdesk.PermWrite, `{"ticket": {"removeTags": ["once"]}}`).want(t, http.StatusOK, "")
	again := e.doHeader("POST", base+"/tickets/update_many", write, withKey("bulk-1"), body)
	again.want(t, http.StatusOK, "")
	if again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.raw, first.raw) {
		t.Fatalf("replay %v %s, want the first answer %s", again.header, again.raw, first.raw)
	}
	if tk := e.do("GET", base+"/tickets/"+a, helpdesk.PermRead, nil).ticket(t); tagsOf(tk) != "[]" {
		t.Fatalf("the replay wrote again: %v", tk)
	}
	e.doHeader("POST", base+"/tickets/update_many", write, withKey("bulk-1"), `{"ids": ["`+a+`"], "ticket": {"addTags": ["once"]}}`).
		want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "Idempotency-Key")
	// A refused request frees its key for the corrected one.
	e.doHeader("POST", base+"/tickets/update_many", write, withKey("bulk-2"), `{"ids": ["`+a+`", "`+a+`"], "ticket": {"addTags": ["x"]}}`).
		want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "ids[1]")
	e.doHeader("POST", base+"/tickets/update_many", write, withKey("bulk-2"), `{"ids": ["`+a+`"], "ticket": {"addTags": ["x"]}}`).want(t, http.StatusOK, "")
}

// TestUpdateManyEvents checks that a bulk update of n tickets records n
// ticket.updated events, as n PUTs would.
func TestUpdateManyEvents(t *testing.T) {
	a := newActivity(t)
	key, actor := a.writeKey("bulk desk")
	var tickets []string
	for i := range 3 {
		tickets = append(tickets, a.write("POST", "/tickets", key, fmt.Sprintf(`{"ticket": {"subject": "s%d"}}`, i), http.StatusCreated)["id"].(string))
	}
	a.record(3)
	res := a.doKey("POST", base+"/tickets/update_many", key, `{"ids": ["`+strings.Join(tickets, `", "`)+`"], "ticket": {"status": "open", "addTags": ["bulk"]}}`)
	for _, r := range bulkResults(t, res) {
		if r["status"] != 200.0 {
			t.Fatalf("result %v", r)
		}
	}
	a.record(3)
	evs, _ := a.walk(base + "/events")
	var updated []string
	for _, ev := range evs {
		if ev["type"] == "ticket.updated" {
			updated = append(updated, ticketOf(ev))
			if fmt.Sprint(ev["actor"]) != fmt.Sprint(actor) {
				t.Errorf("event actor %v, want %v", ev["actor"], actor)
			}
		}
	}
	slices.Sort(updated)
	slices.Sort(tickets)
	if !slices.Equal(updated, tickets) {
		t.Fatalf("ticket.updated events for %v, want one per ticket %v", updated, tickets)
	}
}

// TestUpdateManyTicketsOmitted checks the answer past its size bound: the
// statuses without the tickets, and its replay the same.
func TestUpdateManyTicketsOmitted(t *testing.T) {
	e, _ := newAPI(t)
	httpapi.SetMaxBulkTickets(t, 500) // one ticket, not three
	var tickets []string
	for i := range 3 {
		tickets = append(tickets, e.createTicket(map[string]any{"subject": fmt.Sprintf("s%d", i)})["id"].(string))
	}
	body := `{"ids": ["` + strings.Join(tickets, `", "`) + `"], "ticket": {"addTags": ["big"]}}`
	res := e.doHeader("POST", base+"/tickets/update_many", e.keys[helpdesk.PermWrite], withKey("big-1"), body)
	for i, r := range bulkResults(t, res) {
		if r["id"] != tickets[i] || r["status"] != 200.0 || r["ticket"] != nil {
			t.Fatalf("result %d: %v", i, r)
		}
	}
	if res.body["ticketsOmitted"] != true {
		t.Fatalf("answer %s, want ticketsOmitted", res.raw)
	}
	if tk := e.do("GET", base+"/tickets/"+tickets[2], helpdesk.PermRead, nil).ticket(t); tagsOf(tk) != "[big]" {
		t.Fatalf("ticket %v not updated", tk)
	}
	again := e.doHeader("POST", base+"/tickets/update_many", e.keys[helpdesk.PermWrite], withKey("big-1"), body)
	if again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.raw, res.raw) {
		t.Fatalf("replay %s, want %s", again.raw, res.raw)
	}
}

// TestUpdateManyFaults checks a bulk update when DynamoDB fails beyond
// the SDK's retries: each ticket's write failing is that entry's 503, and
// the completion of its Idempotency-Key failing after the writes still
// answers them, freeing the key, so a retry runs again and changes
// nothing more.
func TestUpdateManyFaults(t *testing.T) {
	e, faults := newFaultyAPI(t)
	write := e.keys[helpdesk.PermWrite]
	a := e.createTicket(map[string]any{"subject": "a"})["id"].(string)
	b := e.createTicket(map[string]any{"subject": "b"})["id"].(string)
	body := `{"ids": ["` + a + `", "` + b + `"], "ticket": {"addTags": ["x"]}}`

	faults.Add(dynamotest.Rule{Op: "PutItem", Fault: dynamotest.Throttling})
	for i, r := range bulkResults(t, e.do("POST", base+"/tickets/update_many", helpdesk.PermWrite, body)) {
		if r["status"] != 503.0 || r["error"].(map[string]any)["code"] != string(helpdesk.CodeUnavailable) {
			t.Fatalf("result %d under throttled writes: %v", i, r)
		}
	}
	faults.Clear()

	faults.Add(dynamotest.Rule{Op: "UpdateItem", Fault: dynamotest.Throttling})
	first := e.doHeader("POST", base+"/tickets/update_many", write, withKey("fault-1"), body)
	for i, r := range bulkResults(t, first) {
		if r["status"] != 200.0 {
			t.Fatalf("result %d with the completion failing: %v", i, r)
		}
	}
	faults.Clear()
	versions := map[string]int64{a: e.stored(a).Version, b: e.stored(b).Version}
	again := e.doHeader("POST", base+"/tickets/update_many", write, withKey("fault-1"), body)
	if again.header.Get("Idempotent-Replayed") != "" {
		t.Fatal("replayed an answer that was never kept")
	}
	bulkResults(t, again)
	for id, v := range versions {
		if got := e.stored(id); got.Version != v || !slices.Equal(got.Tags, []string{"x"}) {
			t.Fatalf("%s: version %d tags %q after the retry, want %d [x]", id, got.Version, got.Tags, v)
		}
	}
}
