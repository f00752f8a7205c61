package httpapi

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
)

// decodeWebhookPatch decodes the members of a "webhook" object.
func decodeWebhookPatch(fields map[string]json.RawMessage, problems *helpdesk.Problems) *helpdesk.WebhookPatch {
	const prefix = "webhook."
	p := &helpdesk.WebhookPatch{}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		raw, field := fields[k], prefix+k
		switch k {
		case "url":
			if s, ok := decodeString(raw, field, problems); ok {
				p.URL = &s
			}
		case "events":
			p.Events = decodeStrings(raw, field, problems)
		case "description":
			if s, ok := decodeString(raw, field, problems); ok {
				p.Description = &s
			}
		case "status":
			if s, ok := decodeString(raw, field, problems); ok {
				v := helpdesk.WebhookStatus(s)
				p.Status = &v
			}
		case "id", "secret", "createdAt", "updatedAt":
			problems.Add(field, "is read-only")
		default:
			problems.Add(field, "is not a known field")
		}
	}
	return p
}

func (a *api) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	hooks, err := a.hooks.List(r.Context())
	if err != nil {
		return err
	}
	body := webhooksBody{Webhooks: make([]view.Webhook, len(hooks))}
	for i, h := range hooks {
		body.Webhooks[i] = view.NewWebhook(h, false)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (a *api) createWebhook(w http.ResponseWriter, r *http.Request) error {
	// The secret is shown once, in this answer; a replay shows it again to
	// the same caller, who may never have received the first.
	return create(a, w, r, "webhook", decodeWebhookPatch, a.hooks.Create,
		func(hook *helpdesk.Webhook) reply {
			return created(r, "/webhooks/"+hook.ID, webhookBody{view.NewWebhook(hook, true)})
		})
}

func (a *api) getWebhook(w http.ResponseWriter, r *http.Request) error {
	hook, err := a.hooks.Webhook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookBody{view.NewWebhook(hook, false)})
	return nil
}

func (a *api) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	var problems helpdesk.Problems
	fields, err := readObject(w, r, "webhook", &problems)
	if err != nil {
		return err
	}
	hook, err := a.hooks.Update(r.Context(), r.PathValue("id"), decodeWebhookPatch(fields, &problems), problems)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookBody{view.NewWebhook(hook, false)})
	return nil
}

func (a *api) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := a.hooks.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) rotateSecret(w http.ResponseWriter, r *http.Request) error {
	hook, err := a.hooks.RotateSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookBody{view.NewWebhook(hook, true)})
	return nil
}

func (a *api) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	values, err := queryValues(r.URL.RawQuery)
	if err != nil {
		return err
	}
	size, after, err := parsePage(values)
	if err != nil {
		return err
	}
	page, err := a.hooks.Attempts(r.Context(), r.PathValue("id"), size, after)
	if err != nil {
		return err
	}
	body := attemptsBody{Deliveries: make([]view.Attempt, len(page.Attempts)), Meta: listMeta{PageSize: size, HasMore: page.Next != ""}}
	for i, at := range page.Attempts {
		body.Deliveries[i] = view.NewAttempt(at)
	}
	body.Links.Next = nextLink(r, values, "/webhooks/"+r.PathValue("id")+"/deliveries", page.Next)
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (a *api) replayDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := a.hooks.Replay(r.Context(), r.PathValue("id"), r.PathValue("eventId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, replayBody{view.NewReplay(d)})
	return nil
}
