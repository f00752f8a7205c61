package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// attemptTimeout bounds each DynamoDB attempt in these tests: shorter than
// the deployed app.AttemptTimeout, so that timeouts cost the tests little,
// by the same mechanism.
const attemptTimeout = 300 * time.Millisecond

// sustained are the faults that persist through the SDK's retries, as
// throttling under a burst or an outage does.
var sustained = []dynamotest.Fault{dynamotest.Throttling, dynamotest.ProvisionedThroughput, dynamotest.ServerError, dynamotest.Timeout}

func newFaultyAPI(t *testing.T) (*env, *dynamotest.Faults) {
	t.Helper()
	db, faults := dynamotest.FaultyClient(t, attemptTimeout)
	e, _ := newAPIOn(t, db)
	// Warm the key cache, so that the faults meet the route's own calls.
	for _, perm := range helpdesk.Permissions {
		e.do("GET", base+"/tickets/tkt_warm", perm, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	}
	return e, faults
}

// unavailable fails unless res is the 503 a client should retry.
func unavailable(tb testing.TB, res response) {
	tb.Helper()
	res.want(tb, http.StatusServiceUnavailable, helpdesk.CodeUnavailable)
	if res.header.Get("Retry-After") == "" {
		tb.Fatal("503 without Retry-After")
	}
}

// comments reads a ticket's conversation past the faults.
func (e *env) comments(id string) []*helpdesk.Comment {
	e.tb.Helper()
	page, err := e.clean.ListComments(context.Background(), helpdesk.CommentQuery{TicketID: id, Order: helpdesk.Asc, PageSize: helpdesk.MaxPageSize})
	if err != nil {
		e.tb.Fatal(err)
	}
	return page.Comments
}

// stored reads a ticket past the faults; nil when there is none.
func (e *env) stored(id string) *helpdesk.Ticket {
	e.tb.Helper()
	t, err := e.clean.Ticket(context.Background(), id)
	if helpdesk.ErrorCode(err) == helpdesk.CodeNotFound {
		return nil
	}
	if err != nil {
		e.tb.Fatal(err)
	}
	return t
}

// TestSustainedFaults makes every call of a route's operation fail, beyond
// the SDK's retries: each route answers 503 with Retry-After, stores
// nothing, and the same request succeeds once DynamoDB recovers.
func TestSustainedFaults(t *testing.T) {
	for _, fault := range sustained {
		t.Run(fault.String(), func(t *testing.T) {
			t.Parallel()
			e, faults := newFaultyAPI(t)
			id := e.createTicket(map[string]any{"subject": "before"})["id"].(string)
			path := base + "/tickets/" + id
			write := e.keys[helpdesk.PermWrite]
			inject := func(op string) { faults.Clear(); faults.Add(dynamotest.Rule{Op: op, Fault: fault}) }

			t.Run("Get", func(t *testing.T) {
				inject("GetItem")
				unavailable(t, e.do("GET", path, helpdesk.PermRead, nil))
				faults.Clear()
				e.do("GET", path, helpdesk.PermRead, nil).want(t, http.StatusOK, "")
			})
			t.Run("List", func(t *testing.T) {
				inject("Query")
				unavailable(t, e.do("GET", base+"/tickets?status=new", helpdesk.PermRead, nil))
				faults.Clear()
				e.do("GET", base+"/tickets?status=new", helpdesk.PermRead, nil).want(t, http.StatusOK, "")
			})
			t.Run("Create", func(t *testing.T) {
				before := e.ticketCount()
				inject("PutItem")
				unavailable(t, e.do("POST", base+"/tickets", helpdesk.PermWrite, `{"ticket": {"subject": "x"}}`))
				faults.Clear()
				if n := e.ticketCount(); n != before {
					t.Fatalf("%d tickets after a failed create, want %d", n, before)
				}
				e.do("POST", base+"/tickets", helpdesk.PermWrite, `{"ticket": {"subject": "x"}}`).want(t, http.StatusCreated, "")
			})
			t.Run("IdempotentCreate", func(t *testing.T) {
				for _, op := range []string{"PutItem", "TransactWriteItems"} { // the claim, then the create
					before := e.ticketCount()
					inject(op)
					unavailable(t, e.doHeader("POST", base+"/tickets", write, withKey("k-"+op), `{"ticket": {"subject": "x"}}`))
					faults.Clear()
					if n := e.ticketCount(); n != before {
						t.Fatalf("%s: %d tickets after a failed create, want %d", op, n, before)
					}
					// The failed request released its claim: the retry runs.
					e.doHeader("POST", base+"/tickets", write, withKey("k-"+op), `{"ticket": {"subject": "x"}}`).want(t, http.StatusCreated, "")
					if n := e.ticketCount(); n != before+1 {
						t.Fatalf("%s: %d tickets after the retry, want %d", op, n, before+1)
					}
				}
			})
			t.Run("Update", func(t *testing.T) {
				was := e.stored(id)
				inject("PutItem")
				unavailable(t, e.do("PUT", path, helpdesk.PermWrite, `{"ticket": {"subject": "after"}}`))
				faults.Clear()
				if now := e.stored(id); now.Version != was.Version || now.Subject != was.Subject {
					t.Fatalf("a failed update changed the ticket: %+v", now)
				}
				e.do("PUT", path, helpdesk.PermWrite, `{"ticket": {"subject": "after"}}`).want(t, http.StatusOK, "")
			})
			t.Run("CustomField", func(t *testing.T) {
				inject("TransactWriteItems")
				unavailable(t, e.do("POST", base+"/custom_fields", helpdesk.PermAdmin, `{"customField": {"name": "Plan", "type": "text"}}`))
				faults.Clear()
				// Nothing was reserved: the same name is free.
				e.do("POST", base+"/custom_fields", helpdesk.PermAdmin, `{"customField": {"name": "Plan", "type": "text"}}`).want(t, http.StatusCreated, "")
			})
			t.Run("Comment", func(t *testing.T) {
				was := e.stored(id)
				inject("TransactWriteItems")
				unavailable(t, e.do("POST", path+"/comments", helpdesk.PermWrite, `{"comment": {"body": "x", "authorId": "usr_a"}}`))
				faults.Clear()
				if now := e.stored(id); now.Version != was.Version || len(e.comments(id)) != 0 {
					t.Fatalf("a failed comment wrote: ticket %+v, %d comments", now, len(e.comments(id)))
				}
				e.do("POST", path+"/comments", helpdesk.PermWrite, `{"comment": {"body": "x", "authorId": "usr_a"}}`).want(t, http.StatusCreated, "")
			})
			t.Run("Webhooks", func(t *testing.T) {
				inject("Query")
				unavailable(t, e.do("GET", base+"/webhooks", helpdesk.PermRead, nil))
			})
			t.Run("Delete", func(t *testing.T) {
				inject("TransactWriteItems")
				unavailable(t, e.do("DELETE", path, helpdesk.PermWrite, nil))
				faults.Clear()
				if e.stored(id) == nil {
					t.Fatal("a failed delete removed the ticket")
				}
				e.do("DELETE", path, helpdesk.PermWrite, nil).want(t, http.StatusNoContent, "")
			})
			t.Run("Authentication", func(t *testing.T) {
				// A key not cached yet is looked up: a failed lookup is no
				// reason to call the key invalid.
				key := dynamotest.AddKey(t, e.clean, helpdesk.PermRead)
				inject("GetItem")
				unavailable(t, e.doKey("GET", base+"/tickets", key, nil))
				faults.Clear()
				e.doKey("GET", base+"/tickets", key, nil).want(t, http.StatusOK, "")
			})
		})
	}
}

// request is one call of a route, with what must hold after it.
type request struct {
	name   string
	method string
	path   string // %s is the fixture ticket's id
	header http.Header
	body   string
	perm   helpdesk.Permission
	status int
	ops    []string // the operations it calls, in order (the key lookup is cached)
}

// routeCalls are requests of every kind, each with the DynamoDB operations
// it makes.
var routeCalls = []request{
	{"Get", "GET", "/tickets/%s", nil, "", helpdesk.PermRead, http.StatusOK, []string{"GetItem"}},
	{"List", "GET", "/tickets?priority=normal", nil, "", helpdesk.PermRead, http.StatusOK, []string{"Query"}},
	{"Create", "POST", "/tickets", nil, `{"ticket": {"subject": "new"}}`, helpdesk.PermWrite, http.StatusCreated, []string{"PutItem"}},
	{"IdempotentCreate", "POST", "/tickets", withKey("once"), `{"ticket": {"subject": "new"}}`, helpdesk.PermWrite, http.StatusCreated, []string{"PutItem", "TransactWriteItems"}},
	{"Update", "PUT", "/tickets/%s", nil, `{"ticket": {"priority": "high"}}`, helpdesk.PermWrite, http.StatusOK, []string{"GetItem", "PutItem"}},
	{"UpdateIfMatch", "PUT", "/tickets/%s", ifMatch(`"1"`), `{"ticket": {"priority": "high"}}`, helpdesk.PermWrite, http.StatusOK, []string{"GetItem", "PutItem"}},
	{"Delete", "DELETE", "/tickets/%s", nil, "", helpdesk.PermWrite, http.StatusNoContent, []string{"TransactWriteItems"}},
	{"CustomField", "POST", "/custom_fields", nil, `{"customField": {"name": "Plan", "type": "text"}}`, helpdesk.PermAdmin, http.StatusCreated, []string{"TransactWriteItems"}},
	{"Comment", "POST", "/tickets/%s/comments", nil, `{"comment": {"body": "On it.", "authorId": "usr_a"}}`, helpdesk.PermWrite, http.StatusCreated, []string{"GetItem", "TransactWriteItems"}},
	{"IdempotentComment", "POST", "/tickets/%s/comments", withKey("c-once"), `{"comment": {"body": "On it.", "authorEmail": "jane@example.com"}}`, helpdesk.PermWrite, http.StatusCreated, []string{"PutItem", "GetItem", "TransactWriteItems"}},
	{"ListComments", "GET", "/tickets/%s/comments?sort_order=desc", nil, "", helpdesk.PermRead, http.StatusOK, []string{"Query", "GetItem"}},
	{"Webhook", "POST", "/webhooks", nil, `{"webhook": {"url": "http://127.0.0.1:9/", "events": ["ticket.created"]}}`, helpdesk.PermAdmin, http.StatusCreated, []string{"Query", "PutItem"}},
}

// TestTransientFaults fails each call a request makes once, in every way:
// the SDK's retry (and for lost replies, the store's recognising its own
// earlier write) makes the request succeed, with exactly its effect.
func TestTransientFaults(t *testing.T) {
	for _, fault := range []dynamotest.Fault{dynamotest.Throttling, dynamotest.ServerError, dynamotest.Timeout, dynamotest.LostReply} {
		t.Run(fault.String(), func(t *testing.T) {
			t.Parallel()
			for _, rc := range routeCalls {
				for _, op := range rc.ops {
					t.Run(rc.name+"/"+op, func(t *testing.T) {
						e, faults := newFaultyAPI(t)
						id := e.createTicket(map[string]any{"subject": "before"})["id"].(string)
						faults.Add(dynamotest.Rule{Op: op, Fault: fault, Times: 1})
						res := e.doHeader(rc.method, base+strings.Replace(rc.path, "%s", id, 1), e.keys[rc.perm], rc.header, nilIfEmpty(rc.body))
						if faults.Hit(op) != 1 {
							t.Fatalf("the fault never hit %s", op)
						}
						checkEffect(t, e, rc, id, res)
					})
				}
			}
		})
	}
}

func nilIfEmpty(body string) any {
	if body == "" {
		return nil
	}
	return body
}

// checkEffect fails unless res and the table show rc done exactly once on
// the fixture ticket id.
func checkEffect(t *testing.T, e *env, rc request, id string, res response) {
	t.Helper()
	tk := e.stored(id)
	switch rc.name {
	case "Delete":
		// A delete whose answer was lost is retried by the SDK and then
		// finds nothing but its own tombstone: done.
		if res.status != http.StatusNoContent {
			t.Fatalf("delete answered %d: %s", res.status, res.raw)
		}
		if tk != nil {
			t.Fatal("the ticket is still there")
		}
		return
	case "Create", "IdempotentCreate":
		if n := e.ticketCount(); n != 2 {
			t.Fatalf("%d tickets, want the fixture and one created", n)
		}
	case "Comment", "IdempotentComment":
		cs := e.comments(id)
		if len(cs) != 1 || tk.Version != 2 || tk.Comments != 1 || !tk.UpdatedAt.Equal(cs[0].CreatedAt) {
			t.Fatalf("after one comment: %d comments, ticket %+v; want one, and the ticket bumped once to its time", len(cs), tk)
		}
	case "Update", "UpdateIfMatch":
		if tk.Priority != helpdesk.PriorityHigh || tk.Version != 2 {
			t.Fatalf("after one update the ticket is %+v, want priority high at version 2", tk)
		}
	}
	res.want(t, rc.status, "")
	if rc.header.Get("Idempotency-Key") != "" {
		again := e.doHeader(rc.method, base+strings.Replace(rc.path, "%s", id, 1), e.keys[rc.perm], rc.header, rc.body)
		if again.status != http.StatusCreated || again.header.Get("Idempotent-Replayed") != "true" || string(again.raw) != string(res.raw) {
			t.Fatalf("retry after the fault: %d %v %s, want the replayed %s", again.status, again.header, again.raw, res.raw)
		}
	}
}

// otherWriter returns a write by another client that changes the ticket
// id with change, for a fault rule to run just before a request's write.
func (e *env) otherWriter(t *testing.T, id string, change func(*helpdesk.Ticket)) func() {
	return func() {
		if _, err := e.clean.UpdateTicket(context.Background(), id, func(tk *helpdesk.Ticket) (bool, error) {
			change(tk)
			tk.UpdatedAt = dynamotest.Now()
			return true, nil
		}); err != nil {
			t.Error(err)
		}
	}
}

// TestConcurrentWriterFaults lets another writer change the ticket just
// before an update's conditional write, so that its condition really
// fails in DynamoDB Local.
func TestConcurrentWriterFaults(t *testing.T) {
	e, faults := newFaultyAPI(t)
	other := func(id string, change func(*helpdesk.Ticket)) func() { return e.otherWriter(t, id, change) }
	t.Run("BothChangesKept", func(t *testing.T) {
		id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
		faults.Add(dynamotest.Rule{Op: "PutItem", Times: 1, Before: other(id, func(tk *helpdesk.Ticket) { tk.Type = helpdesk.TypeTask })})
		res := e.do("PUT", base+"/tickets/"+id, helpdesk.PermWrite, `{"ticket": {"priority": "urgent"}}`)
		res.want(t, http.StatusOK, "")
		if tk := e.stored(id); tk.Type != helpdesk.TypeTask || tk.Priority != helpdesk.PriorityUrgent || tk.Version != 3 {
			t.Fatalf("ticket %+v, want both writers' changes at version 3", tk)
		}
	})
	t.Run("IfMatchRefused", func(t *testing.T) {
		id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
		faults.Add(dynamotest.Rule{Op: "PutItem", Times: 1, Before: other(id, func(tk *helpdesk.Ticket) { tk.Type = helpdesk.TypeTask })})
		e.doHeader("PUT", base+"/tickets/"+id, e.keys[helpdesk.PermWrite], ifMatch(`"1"`), `{"ticket": {"priority": "urgent"}}`).
			want(t, http.StatusPreconditionFailed, helpdesk.CodePreconditionFailed)
		if tk := e.stored(id); tk.Type != helpdesk.TypeTask || tk.Priority != helpdesk.PriorityNormal || tk.Version != 2 {
			t.Fatalf("ticket %+v, want only the other writer's change", tk)
		}
	})
	t.Run("DeletedMeanwhile", func(t *testing.T) {
		id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
		faults.Add(dynamotest.Rule{Op: "PutItem", Times: 1, Before: func() {
			if err := e.clean.DeleteTicket(context.Background(), id, helpdesk.Precondition{}, dynamotest.Deletion()); err != nil {
				t.Error(err)
			}
		}})
		e.do("PUT", base+"/tickets/"+id, helpdesk.PermWrite, `{"ticket": {"priority": "urgent"}}`).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
		if e.stored(id) != nil {
			t.Fatal("the update brought a deleted ticket back")
		}
	})
}

// TestConcurrentCommentFaults lets another writer change a ticket just
// before a comment's transaction: the comment is written with the other
// change kept, or, when the other writer closed or deleted the ticket,
// refused with nothing written.
func TestConcurrentCommentFaults(t *testing.T) {
	e, faults := newFaultyAPI(t)
	before := func(id string, change func(*helpdesk.Ticket)) func() { return e.otherWriter(t, id, change) }
	comment := `{"comment": {"body": "Any news?", "authorEmail": "jane@example.com"}}`
	t.Run("BothChangesKept", func(t *testing.T) {
		id := e.createTicket(map[string]any{"subject": "x", "status": "pending"})["id"].(string)
		faults.Add(dynamotest.Rule{Op: "TransactWriteItems", Times: 1, Before: before(id, func(tk *helpdesk.Ticket) { tk.Priority = helpdesk.PriorityUrgent })})
		e.do("POST", base+"/tickets/"+id+"/comments", helpdesk.PermWrite, comment).want(t, http.StatusCreated, "")
		tk := e.stored(id)
		if tk.Priority != helpdesk.PriorityUrgent || tk.Status != helpdesk.StatusOpen || tk.Version != 3 || len(e.comments(id)) != 1 {
			t.Fatalf("ticket %+v with %d comments; want the other writer's priority, reopened, at version 3, one comment", tk, len(e.comments(id)))
		}
	})
	t.Run("ClosedMeanwhile", func(t *testing.T) {
		id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
		faults.Add(dynamotest.Rule{Op: "TransactWriteItems", Times: 1, Before: before(id, func(tk *helpdesk.Ticket) { tk.Status = helpdesk.StatusClosed })})
		e.do("POST", base+"/tickets/"+id+"/comments", helpdesk.PermWrite, comment).want(t, http.StatusConflict, helpdesk.CodeConflict)
		if tk := e.stored(id); tk.Version != 2 || len(e.comments(id)) != 0 {
			t.Fatalf("ticket %+v with %d comments; want only the close", tk, len(e.comments(id)))
		}
	})
	t.Run("DeletedMeanwhile", func(t *testing.T) {
		id := e.createTicket(map[string]any{"subject": "x"})["id"].(string)
		faults.Add(dynamotest.Rule{Op: "TransactWriteItems", Times: 1, Before: func() {
			if err := e.clean.DeleteTicket(context.Background(), id, helpdesk.Precondition{}, dynamotest.Deletion()); err != nil {
				t.Error(err)
			}
		}})
		e.do("POST", base+"/tickets/"+id+"/comments", helpdesk.PermWrite, comment).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
		if e.stored(id) != nil {
			t.Fatal("the comment brought a deleted ticket back")
		}
	})
}
