package httpapi

import (
	"encoding/json"
	"mime"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// Upload limits as the contract states them, written out apart from the
// code's constants so that a change to either is caught.
const (
	uploadMaxSize      = 26214400
	filenameMaxRunes   = 255
	contentTypeMaxSize = 255
)

// uploadIDShape is an upload id as the contract states it.
var uploadIDShape = regexp.MustCompile(`^upl_[a-z2-7]{24}$`)

// storedTypes is the contract's StoredContentType enum.
var storedTypes = []string{
	"application/gzip", "application/json", "application/msword", "application/pdf", "application/vnd.ms-excel",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/zip", "application/octet-stream", "audio/mpeg", "image/gif", "image/jpeg", "image/png", "image/webp",
	"message/rfc822", "text/csv", "text/plain", "video/mp4",
}

// FuzzDecodeUpload feeds arbitrary bodies to the upload decoder and
// validator. What is accepted must be a plain file name, a whole size
// within the limit and a media type, stored as the contract says, and be
// what the body said.
func FuzzDecodeUpload(f *testing.F) {
	for _, seed := range []string{
		`{"upload": {"filename": "invoice.pdf", "contentType": "application/pdf", "size": 52113}}`,
		`{"upload": {"filename": "log.txt", "contentType": "text/plain; charset=utf-8", "size": 1}}`,
		`{"upload": {"filename": "page.html", "contentType": "text/html", "size": 26214400}}`,
		`{"upload": {"filename": "../../etc/passwd", "contentType": "text/plain", "size": 26214401}}`,
		`{"upload": {"filename": "a\u202etxt.exe", "contentType": "IMAGE/PNG", "size": 1e3}}`,
		`{"upload": {"filename": "..", "contentType": "text/plain; charset", "size": 1.0}}`,
		`{"upload": {"filename": "C:\\boot.ini", "contentType": "", "size": -1}}`,
		`{"upload": {"filename": null, "contentType": null, "size": null}}`,
		`{"upload": {"id": "upl_x", "uploadUrl": "https://x", "uploadHeaders": {}}}`,
		`{"upload": []}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var problems helpdesk.Problems
		fields, err := parseObject(body, "upload", &problems)
		if err != nil {
			checkParseError(t, err, "upload")
			return
		}
		d := decodeUploadDraft(fields, &problems)
		stored := d.Validate("upload.", &problems)
		checkProblems(t, body, "upload", problems)
		if problems.Err() != nil {
			return
		}
		for k := range fields {
			if !slices.Contains([]string{"filename", "contentType", "size"}, k) {
				t.Fatalf("accepted the member %q", k)
			}
		}
		name := *d.Filename
		if n := utf8.RuneCountInString(name); n < 1 || n > filenameMaxRunes || !utf8.ValidString(name) ||
			strings.ContainsAny(name, `/\`) || name == "." || name == ".." || strings.TrimSpace(name) == "" {
			t.Fatalf("accepted the file name %q", name)
		}
		for _, r := range name {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.In(r, unicode.Cf) {
				t.Fatalf("accepted the file name %q with %U", name, r)
			}
		}
		var said string
		if json.Unmarshal(fields["filename"], &said) != nil || said != name {
			t.Fatalf("the file name %s became %q", fields["filename"], name)
		}
		if *d.Size < 1 || *d.Size > uploadMaxSize || string(fields["size"]) != strconv.FormatInt(*d.Size, 10) {
			t.Fatalf("the size %s became %d", fields["size"], *d.Size)
		}
		var declared string
		if json.Unmarshal(fields["contentType"], &declared) != nil || len(declared) > contentTypeMaxSize {
			t.Fatalf("accepted the content type %s", fields["contentType"])
		}
		mediaType, _, err := mime.ParseMediaType(declared)
		switch {
		case err != nil:
			t.Fatalf("accepted the content type %q: %v", declared, err)
		case !slices.Contains(storedTypes, stored):
			t.Fatalf("%q is stored as %q, off the contract's list", declared, stored)
		case slices.Contains(storedTypes, mediaType) && stored != mediaType:
			t.Fatalf("%q, on the list, is stored as %q", declared, stored)
		case !slices.Contains(storedTypes, mediaType) && stored != "application/octet-stream":
			t.Fatalf("%q, off the list, is stored as %q", declared, stored)
		}
	})
}
