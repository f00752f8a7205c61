package dynamo_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/filestore"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// TestAttachRace: comments racing to attach one upload, each through its
// own copy of the bytes, end with exactly one comment holding it; the
// others are refused naming the upload, write nothing, and leave no copy
// behind.
func TestAttachRace(t *testing.T) {
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	store := dynamotest.StoreOn(t, dynamotest.Client(t), table)
	files := dynamotest.NewFiles(t)
	ctx := context.Background()
	svc := helpdesk.NewService(store, store)
	convo := helpdesk.NewConversations(store, store)
	convo.Uploads, convo.Files = store, files.Store
	uploads := &helpdesk.Uploads{Store: store, Files: files.Store}

	tk, err := svc.CreateTicket(ctx, &helpdesk.TicketPatch{Subject: new("Race")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := uploads.Create(ctx, &helpdesk.UploadDraft{Filename: new("a.txt"), ContentType: new("text/plain"), Size: new(int64(5))}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := files.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(files.Bucket), Key: aws.String(filestore.UploadKey(u.ID)),
		Body: bytes.NewReader([]byte("hello")), ContentType: aws.String("text/plain")}); err != nil {
		t.Fatal(err)
	}
	const racers = 6
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won int
	var refusals []string
	for range racers {
		wg.Go(func() {
			_, _, err := convo.AddComment(ctx, tk.ID, &helpdesk.CommentDraft{Body: new("mine"), AuthorID: helpdesk.Set("usr_a"), Uploads: []string{u.ID}}, nil, nil)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won++
				return
			}
			refusals = append(refusals, helpdesk.ErrorMessage(err)+" "+err.Error())
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d comments attached the upload: %v", won, refusals)
	}
	for _, r := range refusals {
		// The loser either saw the upload attached when it read it, or
		// lost the transaction to the winner (or to a ticket that moved,
		// retried, and then saw it).
		if !strings.Contains(r, "field errors") {
			t.Fatalf("a refusal that names no upload: %s", r)
		}
	}
	after, err := svc.Ticket(ctx, tk.ID)
	if err != nil || after.Comments != 1 {
		t.Fatalf("the ticket counts %d comments (%v)", after.Comments, err)
	}
	out, err := files.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(files.Bucket), Prefix: aws.String("attachments/" + tk.ID + "/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 1 {
		t.Fatalf("%d copies of the upload are kept, want the winner's", len(out.Contents))
	}
}

// TestUploadRetention: an upload past its retention reads as gone before
// DynamoDB's TTL removes it.
func TestUploadRetention(t *testing.T) {
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	store := dynamotest.StoreOn(t, dynamotest.Client(t), table)
	now := time.Now().UTC().Truncate(time.Millisecond)
	old := &helpdesk.Upload{ID: helpdesk.NewUploadID(), Filename: "a", ContentType: "text/plain", Size: 1,
		CreatedAt: now.Add(-helpdesk.UploadRetention), ExpiresAt: now.Add(-helpdesk.UploadRetention + helpdesk.UploadValidity)}
	fresh := &helpdesk.Upload{ID: helpdesk.NewUploadID(), Filename: "b", ContentType: "text/plain", Size: 1, CreatedAt: now, ExpiresAt: now.Add(helpdesk.UploadValidity)}
	for _, u := range []*helpdesk.Upload{old, fresh} {
		if err := store.PutUpload(context.Background(), u, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.Uploads(context.Background(), []string{old.ID, fresh.ID, helpdesk.NewUploadID()})
	if err != nil || len(got) != 1 || got[0].ID != fresh.ID || !got[0].ExpiresAt.Equal(fresh.ExpiresAt) || got[0].Filename != "b" {
		t.Fatalf("Uploads = %+v, %v", got, err)
	}
}
