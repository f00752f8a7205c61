package openapitest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/acme/helpdesk/internal/openapitest"
)

// spy records what a check reports instead of failing the test.
type spy struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (s *spy) Errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

func (s *spy) Helper() {}

const ticket = `{"ticket":{"id":"tkt_kokoknite3yzp7htixhgxn7w","subject":"Cannot log in","status":"open","priority":"high","type":"incident",` +
	`"assigneeId":null,"requesterEmail":"customer@example.com","requesterName":null,"tags":["billing"],"customFields":[],` +
	`"createdAt":"2026-11-25T10:00:00.123Z","updatedAt":"2026-11-25T10:42:17.456Z"}}`

// answer is a canned response.
type answer struct {
	status int
	header map[string]string
	body   string
}

func TestTransport(t *testing.T) {
	const key = "Bearer hd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	ok := map[string]string{"X-Request-Id": "r1", "Content-Type": "application/json"}
	with := func(extra map[string]string) map[string]string {
		h := map[string]string{}
		for k, v := range ok {
			h[k] = v
		}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	tagged := with(map[string]string{"ETag": `"2"`})
	errBody := func(code string) string { return `{"error":{"code":"` + code + `","message":"m"}}` }
	cases := []struct {
		name, method, path, auth, body string
		answer                         answer
		wantErr                        string // "" when the exchange is right
	}{
		{"GetTicket", "GET", "/tickets/tkt_kokoknite3yzp7htixhgxn7w", key, "", answer{200, tagged, ticket}, ""},
		{"NoETag", "GET", "/tickets/tkt_kokoknite3yzp7htixhgxn7w", key, "", answer{200, ok, ticket}, "ETag"},
		{"ExtraField", "GET", "/tickets/tkt_kokoknite3yzp7htixhgxn7w", key, "", answer{200, tagged, strings.Replace(ticket, `"tags"`, `"color":"red","tags"`, 1)}, "does not match"},
		{"NullSubject", "GET", "/tickets/tkt_kokoknite3yzp7htixhgxn7w", key, "", answer{200, tagged, strings.Replace(ticket, `"Cannot log in"`, `null`, 1)}, "does not match"},
		{"NoRequestID", "GET", "/tickets/tkt_kokoknite3yzp7htixhgxn7w", key, "", answer{200, map[string]string{"Content-Type": "application/json", "ETag": `"2"`}, ticket}, "X-Request-Id"},
		{"UndocumentedStatus", "GET", "/tickets/tkt_kokoknite3yzp7htixhgxn7w", key, "", answer{409, ok, errBody("CONFLICT")}, "status is not supported"},
		{"WrongCode", "GET", "/tickets/tkt_kokoknite3yzp7htixhgxn7w", key, "", answer{404, ok, errBody("CONFLICT")}, "want NOT_FOUND"},
		{"InvalidRequestAccepted", "GET", "/tickets?page_size=0", key, "", answer{200, ok, `{"tickets":[],"meta":{"pageSize":1,"hasMore":false},"links":{"next":null}}`}, "accepted it"},
		{"InvalidRequestRefused", "GET", "/tickets?page_size=0", key, "", answer{422, ok, errBody("VALIDATION_ERROR")}, ""},
		{"InvalidBodyAccepted", "POST", "/tickets", key, `{"ticket":{"subject":"x","priority":"extreme"}}`, answer{201, with(map[string]string{"Location": "/x"}), ticket}, "accepted it"},
		{"CreateWithoutLocation", "POST", "/tickets", key, `{"ticket":{"subject":"x"}}`, answer{201, with(map[string]string{"ETag": `"1"`}), ticket}, "Location"},
		{"Created", "POST", "/tickets", key, `{"ticket":{"subject":"x"}}`, answer{201, with(map[string]string{"Location": "/helpdesk/api/v1/tickets/tkt_kokoknite3yzp7htixhgxn7w", "ETag": `"1"`}), ticket}, ""},
		{"BadETag", "POST", "/tickets", key, `{"ticket":{"subject":"x"}}`, answer{201, with(map[string]string{"Location": "/x", "ETag": "1"}), ticket}, "ETag"},
		{"NoKeyNot401", "GET", "/tickets/tkt_kokoknite3yzp7htixhgxn7w", "", "", answer{403, ok, errBody("FORBIDDEN")}, "must be 401"},
		{"NoKey401WithoutChallenge", "GET", "/tickets/tkt_kokoknite3yzp7htixhgxn7w", "", "", answer{401, ok, errBody("UNAUTHORIZED")}, "WWW-Authenticate"},
		{"NoKey401", "GET", "/tickets/tkt_kokoknite3yzp7htixhgxn7w", "", "", answer{401, with(map[string]string{"WWW-Authenticate": `Bearer realm="helpdesk"`}), errBody("UNAUTHORIZED")}, ""},
		{"PublicDocument", "GET", "/openapi.json", "", "", answer{200, with(map[string]string{"Cache-Control": "public, max-age=300"}), `{"openapi":"3.1.0","info":{}}`}, ""},
		{"UnroutedAnswered200", "GET", "/tickets/tkt_kokoknite3yzp7htixhgxn7w/attachments", key, "", answer{200, ok, `{}`}, "must be 404 or 405"},
		{"UnroutedNotFound", "GET", "/ticket", key, "", answer{404, ok, errBody("NOT_FOUND")}, ""},
		{"UnroutedGatewayNotFound", "GET", "/ticket", key, "", answer{404, map[string]string{"Content-Type": "application/json"}, `{"message":"Not Found"}`}, ""},
		{"MethodNotAllowed", "PATCH", "/tickets/tkt_kokoknite3yzp7htixhgxn7w", key, "{}", answer{405, with(map[string]string{"Allow": "GET, HEAD, PUT, DELETE"}), errBody("METHOD_NOT_ALLOWED")}, ""},
		{"AllowWithoutHEAD", "PATCH", "/tickets/tkt_kokoknite3yzp7htixhgxn7w", key, "{}", answer{405, with(map[string]string{"Allow": "GET, PUT, DELETE"}), errBody("METHOD_NOT_ALLOWED")}, "Allow"},
		{"WrongAllow", "PATCH", "/tickets/tkt_kokoknite3yzp7htixhgxn7w", key, "{}", answer{405, with(map[string]string{"Allow": "GET"}), errBody("METHOD_NOT_ALLOWED")}, "Allow"},
		{"TrailingSlash", "GET", "/tickets/", key, "", answer{200, ok, `{"tickets":[],"meta":{"pageSize":25,"hasMore":false},"links":{"next":null}}`}, "must be 404 or 405"},
	}
	var mu sync.Mutex
	current := answer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := current
		mu.Unlock()
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	defer srv.Close()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			current = tc.answer
			mu.Unlock()
			s := &spy{TB: t}
			client := &http.Client{Transport: openapitest.Transport(s, nil)}
			var body *strings.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, _ := http.NewRequest(tc.method, srv.URL+"/helpdesk/api/v1"+tc.path, nil)
			if body != nil {
				req, _ = http.NewRequest(tc.method, srv.URL+"/helpdesk/api/v1"+tc.path, body)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			got := strings.Join(s.errs, "\n")
			switch {
			case tc.wantErr == "" && got != "":
				t.Fatalf("a right exchange was reported: %s", got)
			case tc.wantErr != "" && !strings.Contains(got, tc.wantErr):
				t.Fatalf("reported %q, want a report naming %q", got, tc.wantErr)
			}
		})
	}
}

func TestCheckDelivery(t *testing.T) {
	body := []byte(`{"id":"evt_wi4tzp6ah5vbj5z7r3ky2dz2ly","type":"ticket.deleted","timestamp":"2026-11-26T09:30:45Z","data":` + ticket + `}`)
	header := http.Header{}
	header.Set("Content-Type", "application/json")
	header.Set("User-Agent", "Helpdesk-Webhooks/1.0")
	header.Set("webhook-id", "evt_wi4tzp6ah5vbj5z7r3ky2dz2ly")
	header.Set("webhook-timestamp", "1764149445")
	header.Set("webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= v1,AAAA")
	s := &spy{TB: t}
	openapitest.CheckDelivery(s, header, body)
	if len(s.errs) > 0 {
		t.Fatalf("a right delivery was reported: %v", s.errs)
	}
	header.Del("webhook-signature")
	openapitest.CheckDelivery(s, header, body)
	if len(s.errs) != 1 || !strings.Contains(s.errs[0], "webhook-signature") {
		t.Fatalf("a delivery without a signature: %v", s.errs)
	}
	s.errs = nil
	openapitest.CheckEvent(s, []byte(strings.Replace(string(body), "ticket.deleted", "ticket.exploded", 1)))
	openapitest.CheckEvent(s, []byte(strings.Replace(string(body), `"data":{"ticket"`, `"data":{"previous":{"status":"new"},"ticket"`, 1)))
	if len(s.errs) != 2 {
		t.Fatalf("an unknown type and a deletion with previous values: %v", s.errs)
	}
}
