package httpapi

import (
	"net/http"

	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
)

func (a *api) listCustomFields(w http.ResponseWriter, r *http.Request) error {
	fields, err := a.svc.ListCustomFields(r.Context())
	if err != nil {
		return err
	}
	body := fieldsBody{CustomFields: make([]view.CustomField, len(fields))}
	for i, f := range fields {
		body.CustomFields[i] = view.NewCustomField(f)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (a *api) getCustomField(w http.ResponseWriter, r *http.Request) error {
	f, err := a.svc.CustomField(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fieldBody{view.NewCustomField(f)})
	return nil
}

func (a *api) createCustomField(w http.ResponseWriter, r *http.Request) error {
	return create(a, w, r, "customField", decodeFieldPatch, a.svc.CreateCustomField,
		func(f *helpdesk.CustomField) reply {
			return created(r, "/custom_fields/"+f.ID, fieldBody{view.NewCustomField(f)})
		})
}

func (a *api) updateCustomField(w http.ResponseWriter, r *http.Request) error {
	var problems helpdesk.Problems
	members, err := readObject(w, r, "customField", &problems)
	if err != nil {
		return err
	}
	p := decodeFieldPatch(members, &problems)
	f, err := a.svc.UpdateCustomField(r.Context(), r.PathValue("id"), p, problems)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fieldBody{view.NewCustomField(f)})
	return nil
}

func (a *api) deleteCustomField(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.DeleteCustomField(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
