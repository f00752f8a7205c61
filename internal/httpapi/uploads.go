package httpapi

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/view"
)

type uploadBody struct {
	Upload view.Upload `json:"upload"`
}

// decodeUploadDraft decodes the members of an "upload" object.
func decodeUploadDraft(fields map[string]json.RawMessage, problems *helpdesk.Problems) *helpdesk.UploadDraft {
	const prefix = "upload."
	d := &helpdesk.UploadDraft{}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		raw, field := fields[k], prefix+k
		switch k {
		case "filename":
			if s, ok := decodeString(raw, field, problems); ok {
				d.Filename = &s
			}
		case "contentType":
			if s, ok := decodeString(raw, field, problems); ok {
				d.ContentType = &s
			}
		case "size":
			// A size is a whole number of bytes; 1e3 or 1.0 are not.
			n, err := strconv.ParseInt(string(raw), 10, 64)
			if err != nil {
				problems.Add(field, "must be a whole number of bytes from 1 to %d (25 MiB)", helpdesk.MaxUploadSize)
			} else {
				d.Size = &n
			}
		case "id", "expiresAt", "uploadUrl", "uploadMethod", "uploadHeaders":
			problems.Add(field, "is read-only")
		default:
			problems.Add(field, "is not a known field")
		}
	}
	return d
}

func (a *api) createUpload(w http.ResponseWriter, r *http.Request) error {
	add := func(ctx context.Context, d *helpdesk.UploadDraft, problems helpdesk.Problems, complete helpdesk.Complete[*helpdesk.NewUpload]) (*helpdesk.NewUpload, error) {
		return a.uploads.Create(ctx, d, problems, complete)
	}
	return create(a, w, r, "upload", decodeUploadDraft, add,
		func(u *helpdesk.NewUpload) reply { return jsonReply(http.StatusCreated, uploadBody{view.NewUpload(u)}) })
}
