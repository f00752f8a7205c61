package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/acme/helpdesk/events"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
)

type commentBody struct {
	Comment events.Comment `json:"comment"`
}

type commentsBody struct {
	Comments []events.Comment `json:"comments"`
	Meta     listMeta         `json:"meta"`
	Links    listLinks        `json:"links"`
}

// commentParams are the query parameters of a conversation's list.
var commentParams = []string{"page_size", "after", "sort_order", "public"}

// parseCommentQuery validates the query string of a conversation's list.
// Comments are listed oldest first unless sort_order=desc.
func parseCommentQuery(ticketID string, values url.Values) (helpdesk.CommentQuery, error) {
	q := helpdesk.CommentQuery{TicketID: ticketID}
	var problems helpdesk.Problems
	checkParams(values, commentParams, &problems)
	q.PageSize = pageSize(values, helpdesk.DefaultPageSize, helpdesk.MaxPageSize, &problems)
	q.Order = sortOrder(values, helpdesk.Asc, &problems)
	if v, ok := values["public"]; ok && len(v) == 1 {
		switch v[0] {
		case "true", "false":
			public := v[0] == "true"
			q.Public = &public
		default:
			problems.Add("public", "must be true or false")
		}
	}
	if err := problems.Err(); err != nil {
		return q, err
	}
	var err error
	q.After, err = cursorParam(values)
	return q, err
}

// decodeCommentDraft decodes the members of a "comment" object. The author
// fields take a string or null (no author of that kind).
func decodeCommentDraft(fields map[string]json.RawMessage, problems *helpdesk.Problems) *helpdesk.CommentDraft {
	const prefix = "comment."
	d := &helpdesk.CommentDraft{}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		raw, field := fields[k], prefix+k
		switch k {
		case "body":
			if s, ok := decodeString(raw, field, problems); ok {
				d.Body = &s
			}
		case "public":
			var b bool
			if isNull(raw) || json.Unmarshal(raw, &b) != nil {
				problems.Add(field, "must be true or false")
			} else {
				d.Public = &b
			}
		case "authorId":
			d.AuthorID = decodeNullable(raw, field, problems)
		case "authorEmail":
			d.AuthorEmail = decodeNullable(raw, field, problems)
		case "authorName":
			d.AuthorName = decodeNullable(raw, field, problems)
		case "uploads":
			if ids := decodeStrings(raw, field, problems); ids != nil {
				d.Uploads = *ids
			}
		case "id", "ticketId", "createdAt", "redactedAt", "attachments":
			problems.Add(field, "is read-only")
		default:
			problems.Add(field, "is not a known field")
		}
	}
	return d
}

// showComment is c as an answer shows it, with a fresh download link for
// each attachment.
func (a *api) showComment(ctx context.Context, c *helpdesk.Comment) (events.Comment, error) {
	links, err := a.convo.DownloadLinks(ctx, c)
	if err != nil {
		return events.Comment{}, err
	}
	return view.CommentWithLinks(c, links), nil
}

// commentReply is the answer with one comment.
func (a *api) commentReply(r *http.Request, status int, c *helpdesk.Comment) (reply, error) {
	v, err := a.showComment(r.Context(), c)
	if err != nil {
		return reply{}, err
	}
	body := commentBody{v}
	if status == http.StatusCreated {
		return created(r, "/tickets/"+c.TicketID+"/comments/"+c.ID, body), nil
	}
	return jsonReply(status, body), nil
}

func (a *api) createComment(w http.ResponseWriter, r *http.Request) error {
	ticketID := r.PathValue("id")
	add := func(ctx context.Context, d *helpdesk.CommentDraft, problems helpdesk.Problems, complete helpdesk.Complete[*helpdesk.Comment]) (*helpdesk.Comment, error) {
		c, _, err := a.convo.AddComment(ctx, ticketID, d, problems, complete)
		return c, err
	}
	return create(a, w, r, "comment", decodeCommentDraft, add,
		func(c *helpdesk.Comment) reply {
			rp, err := a.commentReply(r, http.StatusCreated, c)
			if err != nil {
				// Presigning is local work that does not fail with the
				// credentials a function has; were it to, the comment
				// is still shown, without its links.
				logger(r).ErrorContext(r.Context(), "could not sign the download links of a new comment", slog.String("error", err.Error()))
				return created(r, "/tickets/"+c.TicketID+"/comments/"+c.ID, commentBody{view.Comment(c)})
			}
			return rp
		})
}

func (a *api) listComments(w http.ResponseWriter, r *http.Request) error {
	values, err := queryValues(r.URL.RawQuery)
	if err != nil {
		return err
	}
	ticketID := r.PathValue("id")
	q, err := parseCommentQuery(ticketID, values)
	if err != nil {
		return err
	}
	page, err := a.convo.ListComments(r.Context(), q)
	if err != nil {
		return err
	}
	body := commentsBody{Comments: make([]events.Comment, len(page.Comments)), Meta: listMeta{PageSize: q.PageSize, HasMore: page.Next != ""}}
	for i, c := range page.Comments {
		if body.Comments[i], err = a.showComment(r.Context(), c); err != nil {
			return err
		}
	}
	body.Links.Next = nextLink(r, values, "/tickets/"+ticketID+"/comments", page.Next)
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (a *api) getComment(w http.ResponseWriter, r *http.Request) error {
	c, err := a.convo.Comment(r.Context(), r.PathValue("id"), r.PathValue("commentId"))
	if err != nil {
		return err
	}
	rp, err := a.commentReply(r, http.StatusOK, c)
	if err != nil {
		return err
	}
	rp.write(w)
	return nil
}

func (a *api) redactComment(w http.ResponseWriter, r *http.Request) error {
	c, err := a.convo.RedactComment(r.Context(), r.PathValue("id"), r.PathValue("commentId"))
	if err != nil {
		return err
	}
	rp, err := a.commentReply(r, http.StatusOK, c)
	if err != nil {
		return err
	}
	rp.write(w)
	return nil
}
