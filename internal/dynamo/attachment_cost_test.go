package dynamo_test

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/pricing"
)

// TestAttachmentCost measures what one attachment costs through the
// service's own code paths, on DynamoDB Local and the S3 server: the
// capacity units and S3 requests of asking for the upload, of the client's
// PUT, of attaching it (over the same comment without it), of a read of
// the comment and of a download; then prices them (pricing.Default,
// pricing.S3). make amplification prints it:
//
//	go test -run TestAttachmentCost -v ./internal/dynamo/
func TestAttachmentCost(t *testing.T) {
	_, table := dynamotest.NewStore(t)
	m := dynamotest.NewMetered(dynamotest.Client(t))
	s := dynamotest.StoreOn(t, m, table)
	files := dynamotest.NewFiles(t)
	store, s3 := files.Counted(t)
	ctx := t.Context()
	svc := helpdesk.NewService(s, s)
	convo := helpdesk.NewConversations(s, s)
	convo.Uploads, convo.Files = s, store
	uploads := &helpdesk.Uploads{Store: s, Files: store}
	tk, err := svc.CreateTicket(ctx, &helpdesk.TicketPatch{Subject: new("Costs")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("y", 400)
	draft := func(uploads ...string) *helpdesk.CommentDraft {
		return &helpdesk.CommentDraft{Body: &body, AuthorID: helpdesk.Set("usr_agent"), Uploads: uploads}
	}
	type step struct {
		name string
		db   dynamotest.Usage
		s3   map[string]int
	}
	var steps []step
	measure := func(name string, f func()) {
		m.Take()
		s3.Take()
		f()
		steps = append(steps, step{name, m.Take(), s3.Take()})
	}

	data := bytes.Repeat([]byte("x"), 1<<20)
	var u *helpdesk.NewUpload
	measure("POST /uploads", func() {
		if u, err = uploads.Create(ctx, &helpdesk.UploadDraft{Filename: new("screenshot.png"), ContentType: new("image/png"), Size: new(int64(len(data)))}, nil, nil); err != nil {
			t.Fatal(err)
		}
	})
	measure("the client's PUT", func() {
		req, err := http.NewRequest(u.Request.Method, u.Request.URL, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", u.Request.Headers["Content-Type"])
		res, err := (&http.Client{Transport: s3}).Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("PUT: %v %v", res, err)
		}
		res.Body.Close()
	})
	measure("a comment without files", func() {
		if _, _, err := convo.AddComment(ctx, tk.ID, draft(), nil, nil); err != nil {
			t.Fatal(err)
		}
	})
	plainComment := lastComment(t, table, tk.ID)
	var c *helpdesk.Comment
	measure("the same comment attaching it", func() {
		if c, _, err = convo.AddComment(ctx, tk.ID, draft(u.ID), nil, nil); err != nil {
			t.Fatal(err)
		}
	})
	var links []helpdesk.Link
	measure("a read of the comment, links signed", func() {
		if _, err := convo.Comment(ctx, tk.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		if links, err = convo.DownloadLinks(ctx, c); err != nil {
			t.Fatal(err)
		}
	})
	measure("a download", func() {
		res, err := (&http.Client{Transport: s3}).Get(links[0].URL)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET: %v %v", res, err)
		}
		res.Body.Close()
	})

	by := map[string]step{}
	for _, st := range steps {
		by[st.name] = st
		t.Logf("%-38s RCU %4.1f  WCU %4.1f  S3 %v", st.name, st.db.RCU, st.db.WCU, describeS3(st.s3))
	}
	plain, attached := by["a comment without files"], by["the same comment attaching it"]
	// DynamoDB Local reports a transaction's write units as if it held
	// one item per table (1, 2 or 3 small puts all report 2), so the
	// transaction's extra items are priced by AWS's rule instead: 2 units
	// per KB of each item written, from the items' measured sizes.
	uploadItem := rawItem(t, table, "UPLOAD#"+u.ID, "UPLOAD")
	withFiles := rawItem(t, table, dynamo.TicketKeyPrefix+tk.ID, "COMMENT#"+c.ID)
	txWCU := func(item map[string]types.AttributeValue) float64 {
		return 2 * math.Ceil(float64(itemBytes(item))/1024)
	}
	extraRCU := attached.db.RCU - plain.db.RCU
	extraWCU := txWCU(uploadItem) + txWCU(withFiles) - txWCU(plainComment)
	t.Logf("item sizes: the upload %d bytes, the comment %d bytes with its attachment, %d without", itemBytes(uploadItem), itemBytes(withFiles), itemBytes(plainComment))
	t.Logf("%-38s RCU %4.1f  WCU %4.1f  S3 %v", "attaching, over the comment alone", extraRCU, extraWCU, describeS3(attached.s3))

	// The design's requests: S3 checks and copies once, and removes the
	// upload's own bytes; signing a link costs no request.
	if want := map[string]int{"HEAD": 1, "COPY": 1, "DELETE": 1}; !maps.Equal(attached.s3, want) {
		t.Errorf("attaching sent %v to S3, want %v", attached.s3, want)
	}
	if n := len(by["a read of the comment, links signed"].s3) + len(by["POST /uploads"].s3); n != 0 {
		t.Errorf("signing sent requests to S3")
	}

	p, s3p := pricing.Default, pricing.S3
	dynamoCost := func(rcu, wcu float64) float64 { return rcu*p.ReadUnits/1e6 + wcu*p.WriteUnits/1e6 }
	// One more API request (POST /uploads) than a comment without files:
	// API Gateway, Lambda's request and its compute at the measured
	// handler's share are in make bench's per-request cost; here the
	// request price alone.
	request := (p.APIRequests + p.LambdaRequests) / 1e6
	up := by["POST /uploads"].db
	perAttachment := request + dynamoCost(up.RCU, up.WCU) + dynamoCost(extraRCU, extraWCU) +
		2*s3p.PutPerThousand/1e3 + // the client's PUT and the COPY
		s3p.GetPerThousand/1e3 // the HEAD
	perDownload := s3p.GetPerThousand / 1e3
	perGBMonth := s3p.StoragePerGBMonth
	t.Logf("per 1,000 attachments: $%.4f in requests (API and Lambda requests $%.4f, DynamoDB $%.4f, S3 $%.4f)",
		perAttachment*1e3, request*1e3, (dynamoCost(up.RCU, up.WCU)+dynamoCost(extraRCU, extraWCU))*1e3, (2*s3p.PutPerThousand/1e3+s3p.GetPerThousand/1e3)*1e3)
	t.Logf("per 1,000 downloads: $%.4f (S3 GET; the comment read that signs the links is a comment read's cost)", perDownload*1e3)
	t.Logf("storage: $%.3f per GB-month kept (1 MiB for a year: $%.6f); an upload's own bytes are removed once attached", perGBMonth, perGBMonth*float64(len(data))/(1<<30)*12)
}

// lastComment is the newest comment item of ticket id, as stored.
func lastComment(tb testing.TB, table, id string) map[string]types.AttributeValue {
	tb.Helper()
	out, err := dynamotest.Client(tb).Query(tb.Context(), &dynamodb.QueryInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :c)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: dynamo.TicketKeyPrefix + id}, ":c": &types.AttributeValueMemberS{Value: "COMMENT#"}},
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(1)})
	if err != nil || len(out.Items) != 1 {
		tb.Fatalf("the last comment of %s: %v", id, err)
	}
	return out.Items[0]
}

// rawItem reads an item as stored.
func rawItem(tb testing.TB, table, pk, sk string) map[string]types.AttributeValue {
	tb.Helper()
	out, err := dynamotest.Client(tb).GetItem(tb.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}})
	if err != nil || out.Item == nil {
		tb.Fatalf("read %s %s: %v", pk, sk, err)
	}
	return out.Item
}

// itemBytes is an item's size as DynamoDB bills it: each attribute's name
// and value, a number at most 21 bytes, a map or list 3 bytes and 1 per
// element beside its contents.
func itemBytes(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueBytes(v)
	}
	return n
}

func valueBytes(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return min(21, (len(strings.TrimLeft(v.Value, "-0"))+1)/2+1)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueBytes(e)
		}
		return n
	case *types.AttributeValueMemberM:
		return 3 + len(v.Value) + itemBytes(v.Value)
	case *types.AttributeValueMemberSS:
		n := 0
		for _, e := range v.Value {
			n += len(e)
		}
		return n
	}
	return 0
}

// describeS3 lists request counts in a stable order.
func describeS3(counts map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
