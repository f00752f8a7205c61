package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// maxMatchTags bounds the entity tags of one If-Match.
const maxMatchTags = 20

// etag is the strong entity tag of a ticket at version v.
func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// ifMatch reads a request's If-Match (RFC 9110, 13.1.1): absent or "*"
// requires nothing; otherwise the write needs one of the versions its
// strong entity tags name. A weak tag never matches under the strong
// comparison If-Match uses, nor does a tag that names no version, so they
// add none. CodeBadRequest for a malformed header.
func ifMatch(h http.Header) (helpdesk.Precondition, error) {
	values := h.Values("If-Match")
	if len(values) == 0 {
		return helpdesk.Precondition{}, nil
	}
	list := strings.Join(values, ",")
	if strings.TrimSpace(list) == "*" {
		return helpdesk.Precondition{}, nil
	}
	bad := func(msg string) (helpdesk.Precondition, error) {
		return helpdesk.Precondition{}, &helpdesk.Error{Code: helpdesk.CodeBadRequest, Message: "The If-Match header is malformed.",
			Details: []helpdesk.FieldError{{Field: "If-Match", Message: msg}}}
	}
	pre := helpdesk.Precondition{Required: true}
	tags := 0
	for rest := list; ; {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			break
		}
		weak := strings.HasPrefix(rest, "W/")
		if weak {
			rest = rest[2:]
		}
		if !strings.HasPrefix(rest, `"`) {
			return bad(`must be "*" or a comma-separated list of entity tags such as "3"`)
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return bad("has an entity tag without its closing quote")
		}
		tag := rest[1 : 1+end]
		if strings.ContainsFunc(tag, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
			return bad("holds a character an entity tag may not")
		}
		rest = strings.TrimLeft(rest[2+end:], " \t")
		if rest != "" && rest[0] != ',' {
			return bad(`must be "*" or a comma-separated list of entity tags such as "3"`)
		}
		if tags++; tags > maxMatchTags {
			return bad("names more than 20 entity tags")
		}
		v, err := strconv.ParseInt(tag, 10, 64)
		if !weak && err == nil && v > 0 && strconv.FormatInt(v, 10) == tag && !slices.Contains(pre.Versions, v) {
			pre.Versions = append(pre.Versions, v)
		}
	}
	if tags == 0 {
		return bad(`must be "*" or a comma-separated list of entity tags such as "3"`)
	}
	return pre, nil
}
