package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// TestTrashRoutes: a deleted ticket is 404 on its routes and its
// comments', listed in the trash with deletedAt, restored with its
// comment and a new ETag (write), and purged (admin); each route answers
// 404 for a ticket not in the trash, and its permission is enforced.
func TestTrashRoutes(t *testing.T) {
	e, _ := newAPI(t)
	tk := e.createTicket(map[string]any{"subject": "Printer on fire", "tags": []string{"hw"}})
	id := tk["id"].(string)
	path := base + "/tickets/" + id
	e.addComment(id, map[string]any{"body": "On it.", "authorId": "usr_a"})
	etag := e.do("GET", path, helpdesk.PermRead, nil).header.Get("ETag")
	e.do("DELETE", path, helpdesk.PermWrite, nil).want(t, http.StatusNoContent, "")
	for _, p := range []string{path, path + "/comments"} {
		e.do("GET", p, helpdesk.PermRead, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	}

	res := e.do("GET", base+"/deleted_tickets?page_size=1", helpdesk.PermRead, nil)
	res.want(t, http.StatusOK, "")
	listed, _ := res.body["tickets"].([]any)
	if len(listed) != 1 {
		t.Fatalf("the trash lists %s", res.raw)
	}
	entry := listed[0].(map[string]any)
	if entry["id"] != id || entry["subject"] != "Printer on fire" || entry["deletedAt"] == nil || entry["deletedAt"] == "" {
		t.Fatalf("trash entry %v", entry)
	}
	e.do("GET", base+"/deleted_tickets?page_size=0", helpdesk.PermRead, nil).want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "page_size")
	e.do("GET", base+"/deleted_tickets?sort_by=status", helpdesk.PermRead, nil).want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "sort_by")
	e.do("GET", base+"/deleted_tickets?after=bm9wZQ", helpdesk.PermRead, nil).want(t, http.StatusBadRequest, helpdesk.CodeBadRequest)

	e.do("POST", base+"/deleted_tickets/"+id+"/restore", helpdesk.PermRead, nil).want(t, http.StatusForbidden, helpdesk.CodeForbidden)
	restored := e.do("POST", base+"/deleted_tickets/"+id+"/restore", helpdesk.PermWrite, nil)
	restored.want(t, http.StatusOK, "")
	if got := restored.ticket(t); got["id"] != id || got["subject"] != "Printer on fire" || restored.header.Get("ETag") == etag || restored.header.Get("ETag") == "" {
		t.Fatalf("restored %s (ETag %s, was %s)", restored.raw, restored.header.Get("ETag"), etag)
	}
	e.do("GET", path, helpdesk.PermRead, nil).want(t, http.StatusOK, "")
	if comments := e.do("GET", path+"/comments", helpdesk.PermRead, nil); len(comments.body["comments"].([]any)) != 1 {
		t.Fatalf("the restored ticket's comments: %s", comments.raw)
	}
	e.do("POST", base+"/deleted_tickets/"+id+"/restore", helpdesk.PermWrite, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)

	e.do("DELETE", path, helpdesk.PermWrite, nil).want(t, http.StatusNoContent, "")
	e.do("DELETE", base+"/deleted_tickets/"+id, helpdesk.PermWrite, nil).want(t, http.StatusForbidden, helpdesk.CodeForbidden)
	e.do("DELETE", base+"/deleted_tickets/"+id, helpdesk.PermAdmin, nil).want(t, http.StatusNoContent, "")
	e.do("DELETE", base+"/deleted_tickets/"+id, helpdesk.PermAdmin, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	e.do("POST", base+"/deleted_tickets/"+id+"/restore", helpdesk.PermWrite, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	for _, bad := range []string{"tkt_nope", "cf_2u3svrqxjgkrmvp35basbcxb", "tkt_" + "aaaaaaaaaaaaaaaaaaaaaaaa"} {
		e.do("POST", base+"/deleted_tickets/"+bad+"/restore", helpdesk.PermWrite, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
		e.do("DELETE", base+"/deleted_tickets/"+bad, helpdesk.PermAdmin, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	}
	if res := e.do("GET", base+"/deleted_tickets", helpdesk.PermRead, nil); len(res.body["tickets"].([]any)) != 0 {
		t.Fatalf("the trash after the purge: %s", res.raw)
	}
}
