package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/acme/helpdesk/internal/helpdesk"
)

func TestCustomFieldRoutes(t *testing.T) {
	e, _ := newAPI(t)
	res := e.do("POST", base+"/custom_fields", helpdesk.PermAdmin, `{"customField":{"name":" Plan ","type":"dropdown","options":["Pro","Enterprise"]}}`)
	res.want(t, http.StatusCreated, "")
	plan := res.body["customField"].(map[string]any)
	id := plan["id"].(string)
	if plan["name"] != "Plan" || !helpdesk.ValidCustomFieldID(id) || res.header.Get("Location") != base+"/custom_fields/"+id {
		t.Fatalf("created %v, Location %q", plan, res.header.Get("Location"))
	}
	e.do("POST", base+"/custom_fields", helpdesk.PermAdmin, `{"customField":{"name":"Since","type":"date"}}`).want(t, http.StatusCreated, "")
	t.Run("Validation", func(t *testing.T) {
		cases := map[string]struct {
			body   string
			fields []string
		}{
			"Empty":                    {`{"customField":{}}`, []string{"customField.name", "customField.type"}},
			"BadType":                  {`{"customField":{"name":"A","type":"list"}}`, []string{"customField.type"}},
			"DropdownWithoutOptions":   {`{"customField":{"name":"A","type":"dropdown"}}`, []string{"customField.options"}},
			"OptionsOnText":            {`{"customField":{"name":"A","type":"text","options":["x"]}}`, []string{"customField.options"}},
			"DuplicateOptions":         {`{"customField":{"name":"A","type":"dropdown","options":["x","x",""]}}`, []string{"customField.options[1]", "customField.options[2]"}},
			"WrongTypesReportedOnce":   {`{"customField":{"name":5,"type":7,"options":"a"}}`, []string{"customField.name", "customField.options", "customField.type"}},
			"OptionsTrimmedForDupes":   {`{"customField":{"name":"A","type":"dropdown","options":["a","a "]}}`, []string{"customField.options[1]"}},
			"UnknownTypeOnlyNamesType": {`{"customField":{"name":"A","type":"dropdwn","options":["a"]}}`, []string{"customField.type"}},
			"ReadOnlyAndUnknown":       {`{"customField":{"id":"cf_a","name":"A","type":"text","required":true}}`, []string{"customField.id", "customField.required"}},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				e.do("POST", base+"/custom_fields", helpdesk.PermAdmin, tc.body).want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, tc.fields...)
			})
		}
	})
	t.Run("NameIsUnique", func(t *testing.T) {
		e.do("POST", base+"/custom_fields", helpdesk.PermAdmin, `{"customField":{"name":"plan","type":"text"}}`).want(t, http.StatusConflict, helpdesk.CodeConflict)
		e.do("PUT", base+"/custom_fields/"+id, helpdesk.PermAdmin, `{"customField":{"name":"SINCE"}}`).want(t, http.StatusConflict, helpdesk.CodeConflict)
	})
	t.Run("Update", func(t *testing.T) {
		res := e.do("PUT", base+"/custom_fields/"+id, helpdesk.PermAdmin, `{"customField":{"name":"Tier","options":["Pro","Enterprise","Free"]}}`)
		res.want(t, http.StatusOK, "")
		if f := res.body["customField"].(map[string]any); f["name"] != "Tier" || len(f["options"].([]any)) != 3 {
			t.Fatalf("updated %v", f)
		}
		e.do("PUT", base+"/custom_fields/"+id, helpdesk.PermAdmin, `{"customField":{"type":"text"}}`).want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "customField.type")
		e.do("PUT", base+"/custom_fields/cf_missing", helpdesk.PermAdmin, `{"customField":{"name":"x"}}`).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	})
	t.Run("ListAndGet", func(t *testing.T) {
		res := e.do("GET", base+"/custom_fields", helpdesk.PermRead, nil)
		res.want(t, http.StatusOK, "")
		if n := len(res.body["customFields"].([]any)); n != 2 {
			t.Fatalf("%d definitions", n)
		}
		e.do("GET", base+"/custom_fields/"+id, helpdesk.PermRead, nil).want(t, http.StatusOK, "")
		e.do("GET", base+"/custom_fields/not-an-id", helpdesk.PermRead, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	})
	t.Run("DateValues", func(t *testing.T) {
		list := e.do("GET", base+"/custom_fields", helpdesk.PermRead, nil).body["customFields"].([]any)
		since := list[1].(map[string]any)["id"].(string)
		e.do("POST", base+"/tickets", helpdesk.PermWrite, map[string]any{"ticket": map[string]any{"subject": "x", "customFields": []any{map[string]any{"id": since, "value": "2026-02-30"}}}}).
			want(t, http.StatusUnprocessableEntity, helpdesk.CodeValidation, "ticket.customFields[0].value")
		e.do("POST", base+"/tickets", helpdesk.PermWrite, map[string]any{"ticket": map[string]any{"subject": "x", "customFields": []any{map[string]any{"id": since, "value": "2026-02-28"}}}}).
			want(t, http.StatusCreated, "")
	})
	t.Run("Delete", func(t *testing.T) {
		e.do("DELETE", base+"/custom_fields/"+id, helpdesk.PermAdmin, nil).want(t, http.StatusNoContent, "")
		e.do("GET", base+"/custom_fields/"+id, helpdesk.PermRead, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
		e.do("DELETE", base+"/custom_fields/"+id, helpdesk.PermAdmin, nil).want(t, http.StatusNotFound, helpdesk.CodeNotFound)
	})
}
